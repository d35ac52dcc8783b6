package authserver

import (
	"context"
	"fmt"
	"slices"
	"time"

	"portico/store"
)

// RotateSecret gives a confidential client a new secret and returns its
// plaintext (shown once). The previous secret stays valid for grace (zero:
// it stops at once), so deployments can switch without downtime; a client
// never holds more than two live secrets.
func (r *Registrar) RotateSecret(ctx context.Context, orgID, clientID string, actor Actor, grace time.Duration) (store.Client, string, error) {
	if grace < 0 || grace > 90*24*time.Hour {
		return store.Client{}, "", &ValidationError{Fields: []FieldError{{Field: "grace", Message: "must be between 0 and 90 days"}}}
	}
	cur, err := r.st.ClientByClientID(ctx, orgID, clientID)
	if err != nil {
		return store.Client{}, "", err
	}
	if !cur.Type.Confidential() || cur.TokenEndpointAuthMethod == authPrivateJWT {
		return store.Client{}, "", &ValidationError{Fields: []FieldError{{Field: "client_id",
			Message: "this client does not authenticate with a secret"}}}
	}
	now := r.now()
	secret := newToken()
	next := []store.ClientSecret{{Hash: r.hash.sum(purposeSecret, secret), Hint: hint(secret), CreatedAt: now}}
	if grace > 0 {
		// Keep the newest still-live secret, expiring by the end of the grace.
		for _, old := range cur.Secrets { // newest first
			if old.LiveAt(now) {
				end := now.Add(grace)
				if !old.ExpiresAt.IsZero() && old.ExpiresAt.Before(end) {
					end = old.ExpiresAt
				}
				old.ExpiresAt = end
				next = append(next, old)
				break
			}
		}
	}
	var after store.Client
	err = r.st.InTx(ctx, func(tx *store.Store) error {
		if after, err = tx.ReplaceClientSecrets(ctx, orgID, cur.ID, next); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEvent(actor, orgID, "client.rotate_secret", "client", cur.ID),
			map[string]any{"secrets": cur.Secrets}, map[string]any{"secrets": after.Secrets, "grace": grace.String()})
	})
	if err != nil {
		return store.Client{}, "", err
	}
	return after, secret, nil
}

// RevokeSecret ends one secret at once (a leaked one, say). Revoking the
// last live secret leaves the client unable to authenticate until rotated.
func (r *Registrar) RevokeSecret(ctx context.Context, orgID, clientID, secretID string, actor Actor) (store.Client, error) {
	cur, err := r.st.ClientByClientID(ctx, orgID, clientID)
	if err != nil {
		return store.Client{}, err
	}
	i := slices.IndexFunc(cur.Secrets, func(s store.ClientSecret) bool { return s.ID == secretID })
	if i < 0 {
		return store.Client{}, fmt.Errorf("authserver: secret %s: %w", secretID, store.ErrNotFound)
	}
	next := slices.Delete(slices.Clone(cur.Secrets), i, i+1)
	var after store.Client
	err = r.st.InTx(ctx, func(tx *store.Store) error {
		if after, err = tx.ReplaceClientSecrets(ctx, orgID, cur.ID, next); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEvent(actor, orgID, "client.revoke_secret", "client", cur.ID),
			map[string]any{"secrets": cur.Secrets}, map[string]any{"secrets": after.Secrets})
	})
	return after, err
}

// RegistrationTokenInput describes an initial access token for dynamic
// client registration.
type RegistrationTokenInput struct {
	Description string
	TTL         time.Duration // zero: never expires
	MaxUses     int           // zero: unlimited
}

// CreateRegistrationToken makes an initial access token for organization
// orgID and returns its plaintext, shown once. Clients registered with it
// belong to that organization.
func (r *Registrar) CreateRegistrationToken(ctx context.Context, orgID string, actor Actor, in RegistrationTokenInput) (store.RegistrationToken, string, error) {
	var fe fieldErrors
	if in.TTL < 0 {
		fe.add("ttl", "must not be negative")
	}
	if in.MaxUses < 0 {
		fe.add("max_uses", "must not be negative")
	}
	if len(in.Description) > 200 {
		fe.add("description", "must be at most 200 characters")
	}
	if err := fe.err(); err != nil {
		return store.RegistrationToken{}, "", err
	}
	org, err := r.st.Organization(ctx, orgID)
	if err != nil {
		return store.RegistrationToken{}, "", err
	}
	if reason := standing(r.now(), org, nil, nil); reason != "" {
		return store.RegistrationToken{}, "", fmt.Errorf("%w: %s", ErrRegistrationDenied, reason)
	}
	plain := newToken()
	t := store.RegistrationToken{OrgID: org.ID, TokenHash: r.hash.sum(purposeRegistration, plain),
		Description: in.Description, CreatedBy: actor.Label, MaxUses: in.MaxUses}
	if in.TTL > 0 {
		t.ExpiresAt = r.now().Add(in.TTL)
	}
	err = r.st.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateRegistrationToken(ctx, &t); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEvent(actor, org.ID, "registration_token.create", "registration_token", t.ID), nil, t)
	})
	return t, plain, err
}

// RevokeRegistrationToken revokes initial access token id of organization
// orgID, so it registers no more clients; clients it already registered
// keep working. The revocation and its audit event commit together, and a
// token of another organization (or one already revoked) is
// store.ErrNotFound.
func (r *Registrar) RevokeRegistrationToken(ctx context.Context, orgID, id string, actor Actor) error {
	at := r.now()
	return r.st.InTx(ctx, func(tx *store.Store) error {
		if err := tx.RevokeRegistrationToken(ctx, orgID, id, at); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEvent(actor, orgID, "registration_token.revoke", "registration_token", id),
			nil, map[string]any{"revoked_at": at})
	})
}

// CreateScope adds an API scope to the registry.
func (r *Registrar) CreateScope(ctx context.Context, actor Actor, name, description string) (store.Scope, error) {
	var fe fieldErrors
	switch {
	case !validScopeToken(name):
		fe.add("name", "must be 1–200 printable ASCII characters without spaces, quotes or backslashes")
	case IsBuiltinScope(name):
		fe.add("name", "%q is a built-in OpenID Connect scope", name)
	}
	if len(description) > 500 {
		fe.add("description", "must be at most 500 characters")
	}
	if err := fe.err(); err != nil {
		return store.Scope{}, err
	}
	sc := store.Scope{Name: name, Description: description}
	err := r.st.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateScope(ctx, &sc); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEvent(actor, "", "scope.create", "scope", name), nil, sc)
	})
	return sc, err
}
