package authserver

import (
	"context"
	"time"

	"portico/store"
)

// Store is what the authorization server needs from Portico's database;
// *store.Store satisfies it. Writes that must commit together run through
// InTx on the concrete transaction-bound store.
type Store interface {
	InTx(ctx context.Context, fn func(tx *store.Store) error) error
	DataVersion(ctx context.Context) (int64, error)
	EnsureSetting(ctx context.Context, key string, gen func() ([]byte, error)) ([]byte, error)

	Organization(ctx context.Context, id string) (store.Organization, error)
	Plan(ctx context.Context, id string) (store.Plan, error)
	UserByID(ctx context.Context, id string) (store.User, error)
	Scopes(ctx context.Context) ([]store.Scope, error)
	APIs(ctx context.Context) ([]store.API, error)
	API(ctx context.Context, orgID, id string) (store.API, error)
	OrgAllowsClientMetadata(ctx context.Context, orgID string) (bool, error)

	LookupClient(ctx context.Context, clientID string) (store.Client, error)
	ClientByClientID(ctx context.Context, orgID, clientID string) (store.Client, error)
	SharedClient(ctx context.Context, orgID, planID, clientID string) (store.Client, error)

	SigningKeys(ctx context.Context, retiredAfter time.Time) ([]store.SigningKey, error)
	CreateSigningKey(ctx context.Context, k *store.SigningKey) error
	RetireSigningKeys(ctx context.Context, alg string, at time.Time) error

	CreateAuthRequest(ctx context.Context, a *store.AuthRequest) error
	AuthRequest(ctx context.Context, id string) (store.AuthRequest, error)
	AuthRequestByCode(ctx context.Context, codeHash string) (store.AuthRequest, error)
	IssueCode(ctx context.Context, id, userID string, authTime time.Time, amr []string, codeHash string, codeExpires time.Time) error
	UseCode(ctx context.Context, id string, at time.Time, accessJTI string, accessExpires time.Time, familyID string) error
	DeleteAuthRequest(ctx context.Context, id string) error

	CreateRefreshFamily(ctx context.Context, f *store.RefreshFamily, first store.RefreshToken) error
	RefreshToken(ctx context.Context, hash string) (store.RefreshToken, store.RefreshFamily, error)
	RotateRefreshToken(ctx context.Context, oldHash string, next store.RefreshToken) error
	RevokeRefreshFamily(ctx context.Context, familyID, reason string, at time.Time) error
	RevokeJTI(ctx context.Context, jti string, expires time.Time) error
	JTIRevoked(ctx context.Context, jti string) (bool, error)
	UseAssertionJTI(ctx context.Context, clientID, jti string, expires time.Time) error

	CreatePushedRequest(ctx context.Context, handleHash, clientID, params string, created, expires time.Time) error
	UsePushedRequest(ctx context.Context, handleHash, clientID string, now time.Time) (string, error)
	UseDPoPJTIs(ctx context.Context, jtis []store.DPoPJTI) ([]bool, error)

	RecordClientAuthFailure(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)
	BlockClientAuth(ctx context.Context, key string, until time.Time) error
	ClientAuthBlocks(ctx context.Context, now time.Time) (map[string]time.Time, error)
	ClientAuthFailures(ctx context.Context, key string, since time.Time) (int, error)

	RegistrationTokenByHash(ctx context.Context, hash string) (store.RegistrationToken, error)
	PurgeExpiredOAuth(ctx context.Context, now time.Time) (int64, error)
}

var _ Store = (*store.Store)(nil)

// Sweep deletes expired authorization requests, refresh families, revoked
// jtis, assertion jtis, pushed requests and DPoP jtis. Call it now and then (the portal runs it on a
// ticker); nothing depends on it for correctness, only for table size.
func (s *Server) Sweep(ctx context.Context) (int64, error) {
	n, err := s.st.PurgeExpiredOAuth(ctx, s.now())
	if err != nil || s.ist == nil {
		return n, err
	}
	m, err := s.ist.PurgeIssuerJTIs(ctx, s.now())
	return n + m, err
}
