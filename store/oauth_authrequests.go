package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// AuthRequest is an authorization request between /authorize and the token
// endpoint: what the client asked for, who signed in, and the code issued.
type AuthRequest struct {
	ID                  string
	ClientID            string // public client_id
	OrgID               string // the client's organization; "" for a metadata-document client
	RedirectURI         string
	Scopes              []string
	State               string
	Nonce               string
	ResponseMode        string
	Prompt              []string
	MaxAge              *int64 // seconds; nil when absent
	LoginHint           string
	ACRValues           []string // acr_values, in the client's order of preference
	CodeChallenge       string
	CodeChallengeMethod string
	// Resource is the API identifier (RFC 8707) the request is for; "" for
	// the issuer itself.
	Resource string
	// DPoPJKT is the dpop_jkt parameter (RFC 9449 §10): the code may be
	// exchanged only with a proof from that key. Pushed: the request came
	// through a pushed authorization request (RFC 9126).
	DPoPJKT   string
	Pushed    bool
	CreatedAt time.Time
	ExpiresAt time.Time
	// Filled in when the user has signed in.
	UserID   string
	AuthTime time.Time
	AMR      []string
	// Filled in when the code is issued and exchanged.
	CodeHash        string
	CodeExpiresAt   time.Time
	CodeUsedAt      time.Time
	AccessJTI       string
	AccessExpiresAt time.Time
	FamilyID        string
}

const authRequestColumns = `id, client_id, COALESCE(org_id, ''), redirect_uri, scopes, state, nonce, response_mode, prompt,
	max_age, login_hint, code_challenge, code_challenge_method, created_at, expires_at, COALESCE(user_id, ''),
	auth_time, amr, COALESCE(code_hash, ''), code_expires_at, code_used_at, access_jti, access_expires_at, family_id, resource, dpop_jkt, pushed, acr_values`

func scanAuthRequest(row interface{ Scan(...any) error }) (AuthRequest, error) {
	var a AuthRequest
	var scopes, prompt, amr, acr string
	var maxAge, authTime, codeExp, codeUsed, accessExp sql.NullInt64
	var created, expires int64
	err := row.Scan(&a.ID, &a.ClientID, &a.OrgID, &a.RedirectURI, &scopes, &a.State, &a.Nonce, &a.ResponseMode,
		&prompt, &maxAge, &a.LoginHint, &a.CodeChallenge, &a.CodeChallengeMethod, &created, &expires, &a.UserID,
		&authTime, &amr, &a.CodeHash, &codeExp, &codeUsed, &a.AccessJTI, &accessExp, &a.FamilyID, &a.Resource, &a.DPoPJKT, &a.Pushed, &acr)
	if err != nil {
		return a, err
	}
	if maxAge.Valid {
		a.MaxAge = &maxAge.Int64
	}
	for _, f := range []struct {
		src string
		dst *[]string
	}{{scopes, &a.Scopes}, {prompt, &a.Prompt}, {amr, &a.AMR}} {
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return a, err
		}
	}
	a.ACRValues = strings.Fields(acr)
	a.CreatedAt, a.ExpiresAt = fromMS(created), fromMS(expires)
	a.AuthTime, a.CodeExpiresAt, a.CodeUsedAt = fromNullMS(authTime), fromNullMS(codeExp), fromNullMS(codeUsed)
	a.AccessExpiresAt = fromNullMS(accessExp)
	return a, nil
}

// CreateAuthRequest stores a new authorization request: pending, or, when
// CodeHash is set, already completed with its user and code (single sign-on
// at /authorize stores the request once, with its code).
func (s *Store) CreateAuthRequest(ctx context.Context, a *AuthRequest) error {
	if a.ID == "" {
		a.ID = NewID()
	}
	js := func(v []string) string { b, _ := json.Marshal(nonNil(v)); return string(b) }
	var maxAge sql.NullInt64
	if a.MaxAge != nil {
		maxAge = sql.NullInt64{Int64: *a.MaxAge, Valid: true}
	}
	var codeExpires sql.NullInt64
	if a.CodeHash != "" {
		codeExpires = sql.NullInt64{Int64: ms(a.CodeExpiresAt), Valid: true}
	}
	_, err := s.q.ExecContext(ctx, `INSERT INTO oauth_auth_requests (id, client_id, org_id, redirect_uri, scopes,
		state, nonce, response_mode, prompt, max_age, login_hint, code_challenge, code_challenge_method,
		created_at, expires_at, resource, dpop_jkt, pushed, acr_values, user_id, auth_time, amr, code_hash, code_expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.ClientID, nullString(a.OrgID), a.RedirectURI, js(a.Scopes), a.State, a.Nonce, a.ResponseMode, js(a.Prompt),
		maxAge, a.LoginHint, a.CodeChallenge, a.CodeChallengeMethod, ms(a.CreatedAt), ms(a.ExpiresAt), a.Resource, a.DPoPJKT, a.Pushed,
		strings.Join(a.ACRValues, " "), nullString(a.UserID), nullMS(a.AuthTime), js(a.AMR), nullString(a.CodeHash), codeExpires)
	if err != nil {
		return fmt.Errorf("store: create auth request: %w", err)
	}
	return nil
}

// AuthRequest returns an authorization request by ID. Its ID is an
// unguessable handle the server gave out, so it is not organization-scoped.
func (s *Store) AuthRequest(ctx context.Context, id string) (AuthRequest, error) {
	a, err := scanAuthRequest(s.q.QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM oauth_auth_requests WHERE id = ?`, id))
	return a, notFoundOrNil("store: auth request", err)
}

// AuthRequestByCode returns the authorization request whose code has the
// given hash, used or not.
func (s *Store) AuthRequestByCode(ctx context.Context, codeHash string) (AuthRequest, error) {
	a, err := scanAuthRequest(s.q.QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM oauth_auth_requests WHERE code_hash = ?`, codeHash))
	return a, notFoundOrNil("store: auth request by code", err)
}

// IssueCode records the signed-in user and the code's hash on a pending
// request. A request that already has a code is ErrConflict.
func (s *Store) IssueCode(ctx context.Context, id, userID string, authTime time.Time, amr []string, codeHash string, codeExpires time.Time) error {
	b, _ := json.Marshal(nonNil(amr))
	res, err := s.q.ExecContext(ctx, `UPDATE oauth_auth_requests SET user_id = ?, auth_time = ?, amr = ?, code_hash = ?,
		code_expires_at = ?, expires_at = `+s.e.greatest()+`(expires_at, ?) WHERE id = ? AND code_hash IS NULL`,
		userID, nullMS(authTime), string(b), codeHash, ms(codeExpires), ms(codeExpires), id)
	if err != nil {
		return fmt.Errorf("store: issue code: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: issue code: %w", ErrConflict)
	}
	return nil
}

// UseCode marks a code as exchanged, recording what was issued from it. A
// code already used is ErrConflict: the caller treats that as a replay.
func (s *Store) UseCode(ctx context.Context, id string, at time.Time, accessJTI string, accessExpires time.Time, familyID string) error {
	res, err := s.q.ExecContext(ctx, `UPDATE oauth_auth_requests SET code_used_at = ?, access_jti = ?,
		access_expires_at = ?, family_id = ? WHERE id = ? AND code_used_at IS NULL`,
		ms(at), accessJTI, nullMS(accessExpires), familyID, id)
	if err != nil {
		return fmt.Errorf("store: use code: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: use code: %w", ErrConflict)
	}
	return nil
}

// DeleteAuthRequest removes a request (a cancelled or denied login).
func (s *Store) DeleteAuthRequest(ctx context.Context, id string) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM oauth_auth_requests WHERE id = ?`, id)
	return err
}
