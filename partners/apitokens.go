package partners

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"portico/store"
)

// Admin API credentials: the portal's token page, `portico token` and the
// API's own /api/v1/tokens all create and revoke them here.

// APITokenPrefix starts every admin API token, so that secret scanners and
// people recognize one.
const APITokenPrefix = "ptc_"

// Bounds of an admin API credential's lifetime.
const (
	DefaultAPITokenTTL = 90 * 24 * time.Hour
	MaxAPITokenTTL     = 366 * 24 * time.Hour
)

// APITokenInput is a credential as a form, the CLI or the API gives it.
// ClientID set makes a client grant instead of a bearer token.
type APITokenInput struct {
	Name     string
	OrgID    string // "" for the platform
	Role     store.APITokenRole
	TTL      time.Duration // 0: DefaultAPITokenTTL
	ClientID string
}

// NewAPIToken is a created credential and, for a bearer token, its secret,
// which exists nowhere else.
type NewAPIToken struct {
	Token  store.APIToken
	Secret string
}

// HashAPIToken is how a token's secret is stored and looked up. The secret
// is 256 random bits, so a plain SHA-256 is enough.
func HashAPIToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// CreateAPIToken makes an admin API credential. Platform-wide credentials
// only a platform admin makes; an organization's admin makes them for their
// own organization, never with a role above the manager's own authority
// (org admins may make admin tokens of their organization).
func (s *Service) CreateAPIToken(ctx context.Context, m Manager, in APITokenInput) (NewAPIToken, error) {
	var out NewAPIToken
	if in.OrgID == "" && !m.PlatformAdmin {
		return out, ErrNotAllowed
	}
	if in.OrgID != "" && !m.canManage(in.OrgID) {
		return out, ErrNotAllowed
	}
	errs := FieldErrors{}
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		errs["name"] = "Give the token a name that says what uses it."
	case len(name) > 100:
		errs["name"] = "Use at most 100 characters."
	}
	if !in.Role.Valid() {
		errs["role"] = "Choose read or admin."
	}
	ttl := in.TTL
	if ttl == 0 {
		ttl = DefaultAPITokenTTL
	}
	if ttl < time.Hour || ttl > MaxAPITokenTTL {
		errs["expires_in"] = "Choose between 1 hour and 366 days."
	}
	if in.OrgID != "" {
		if _, err := s.Store.Organization(ctx, in.OrgID); errors.Is(err, store.ErrNotFound) {
			errs["org"] = "No such organization."
		} else if err != nil {
			return out, err
		}
	}
	if in.ClientID != "" {
		cl, err := s.Store.LookupClient(ctx, in.ClientID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			errs["client_id"] = "No such client."
		case err != nil:
			return out, err
		case !m.PlatformAdmin && cl.OrgID != m.OrgID:
			// Another organization's client is "no such client" to an
			// organization's admin: the answer tells nothing about it.
			errs["client_id"] = "No such client."
		case in.OrgID != "" && cl.OrgID != in.OrgID:
			// An organization's grant goes to its own clients only: another
			// organization's developers must not hold a key to it.
			errs["client_id"] = "The client belongs to another organization."
		case in.OrgID == "":
			// A platform-wide grant is platform admin power: a partner's
			// developers, who hold their client's secret, must not have it.
			platform, err := s.IsPlatformOrg(ctx, cl.OrgID)
			if err != nil {
				return out, err
			}
			if !platform {
				errs["client_id"] = "A platform-wide grant goes only to a client of the platform's own organization (one whose members include a platform admin); scope the grant to the client's organization instead."
			}
		}
	}
	if err := errs.orNil(); err != nil {
		return out, err
	}
	t := store.APIToken{Name: name, OrgID: in.OrgID, Role: in.Role, ClientID: in.ClientID,
		CreatedBy: m.Actor.Label, ExpiresAt: s.now().Add(ttl).Truncate(time.Millisecond),
		CreatedByUserID: m.Actor.UserID, CreatedByTokenID: m.TokenID}
	if in.ClientID == "" {
		out.Secret = APITokenPrefix + newToken()
		t.TokenHash = HashAPIToken(out.Secret)
		t.Hint = out.Secret[:len(APITokenPrefix)+4] + "…"
	}
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateAPIToken(ctx, &t); err != nil {
			if errors.Is(err, store.ErrAlreadyExists) {
				return FieldErrors{"client_id": "This client already has a grant; revoke it first."}
			}
			return err
		}
		return tx.Audit(ctx, m.Actor.Event(t.OrgID, "api_token.create", "api_token", t.ID), nil, t)
	})
	out.Token = t
	return out, err
}

// RevokeAPIToken ends a credential. An organization's admin revokes only
// their organization's.
func (s *Service) RevokeAPIToken(ctx context.Context, m Manager, id string) (store.APIToken, error) {
	scope := ""
	if !m.PlatformAdmin {
		if m.Role != store.RoleAdmin || m.OrgID == "" {
			return store.APIToken{}, ErrNotAllowed
		}
		scope = m.OrgID
	}
	return s.Store.RevokeAPIToken(ctx, m.Actor, scope, id)
}

// APITokens lists the credentials m may see: every one for a platform
// admin, their organization's for an org admin.
func (s *Service) APITokens(ctx context.Context, m Manager, orgID string) ([]store.APIToken, error) {
	if orgID == "" && !m.PlatformAdmin {
		return nil, ErrNotAllowed
	}
	if orgID != "" && !m.canManage(orgID) {
		return nil, ErrNotAllowed
	}
	return s.Store.APITokens(ctx, orgID)
}

// IsPlatformOrg reports whether orgID is the platform's own organization:
// one with an active platform admin among its members, as the organization
// made on first run. Every other organization is a partner's.
func (s *Service) IsPlatformOrg(ctx context.Context, orgID string) (bool, error) {
	return s.Store.HasActivePlatformAdmin(ctx, orgID)
}

// maxMakerChain bounds how many credentials MakerStanding follows up from
// one (each made with the one before through the API).
const maxMakerChain = 16

// MakerStanding says why credential t no longer works because of who made
// it, or "" when its makers may all still act: a credential never outlives
// its maker. The member who made one in the portal must still exist, be
// active, belong to an active organization, and still be allowed to make
// it: a platform admin for a platform-wide credential, or an admin of the
// credential's organization (or a platform admin). A credential made
// through the API depends on the one it was made with, which must still be
// usable (a grant: its client still exists and is enabled, and for a
// platform-wide one is the platform's own organization's) and stand the
// same test. Credentials made by the command line have no maker to check.
func (s *Service) MakerStanding(ctx context.Context, t store.APIToken) (string, error) {
	now := s.now()
	for range maxMakerChain {
		if t.CreatedByUserID != "" {
			if r, err := s.memberMayMake(ctx, t, now); r != "" || err != nil {
				return r, err
			}
		}
		if t.CreatedByTokenID == "" {
			return "", nil
		}
		parent, err := s.Store.APIToken(ctx, "", t.CreatedByTokenID)
		if errors.Is(err, store.ErrNotFound) {
			return "the credential it was made with no longer exists", nil
		}
		if err != nil {
			return "", err
		}
		if !parent.Usable(now) {
			return "the credential it was made with has expired or was revoked", nil
		}
		if parent.ClientID != "" {
			if r, err := s.grantStanding(ctx, parent); r != "" || err != nil {
				return r, err
			}
		}
		if parent.OrgID != "" {
			o, err := s.Store.Organization(ctx, parent.OrgID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return "", err
			}
			if err != nil || o.InactiveReason(now) != "" {
				return "the organization of the credential it was made with is not active", nil
			}
		}
		t = parent
	}
	return "it was made through too long a chain of credentials", nil
}

// grantStanding says why client grant g may no longer act: its client is
// gone or disabled, or g is platform-wide and the client is not the
// platform's own organization's (as the API checks at every call).
func (s *Service) grantStanding(ctx context.Context, g store.APIToken) (string, error) {
	cl, err := s.Store.LookupClient(ctx, g.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		return "the client of the grant it was made with no longer exists", nil
	}
	if err != nil {
		return "", err
	}
	if !cl.Enabled {
		return "the client of the grant it was made with is disabled", nil
	}
	if g.OrgID != "" {
		return "", nil
	}
	platform, err := s.IsPlatformOrg(ctx, cl.OrgID)
	if err != nil || platform {
		return "", err
	}
	return "it was made with a platform-wide grant of a partner organization's client", nil
}

// memberMayMake checks the member who made t.
func (s *Service) memberMayMake(ctx context.Context, t store.APIToken, now time.Time) (string, error) {
	u, err := s.Store.UserByID(ctx, t.CreatedByUserID)
	if errors.Is(err, store.ErrNotFound) {
		return "the member who made it was removed", nil
	}
	if err != nil {
		return "", err
	}
	if u.Status != store.UserActive {
		return "the member who made it is disabled", nil
	}
	o, err := s.Store.Organization(ctx, u.OrgID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if err != nil || o.InactiveReason(now) != "" {
		return "the organization of the member who made it is not active", nil
	}
	switch {
	case u.PlatformAdmin:
		return "", nil
	case t.OrgID == "":
		return "the member who made it is no longer a platform admin", nil
	case u.OrgID != t.OrgID || u.Role != store.RoleAdmin:
		return "the member who made it is no longer an admin of its organization", nil
	}
	return "", nil
}
