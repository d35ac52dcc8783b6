package pool

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"portico/store"
)

// Errors of IssueResetLink, matched with errors.Is.
var (
	// ErrNotPoolUser: the user signs in through an identity provider and
	// has no Portico password to reset.
	ErrNotPoolUser = errors.New("pool: user has no identity-pool password")
	// ErrPlatformAdminTarget: only a platform administrator may issue a
	// link for one, or an org admin of the staff organization could take
	// over the platform.
	ErrPlatformAdminTarget = errors.New("pool: only platform administrators may reset a platform administrator")
)

// Issuer is who asks for a reset link.
type Issuer struct {
	Actor         store.Actor
	PlatformAdmin bool
}

// ResetLink is an issued link's token and expiry. The token is shown once;
// only its hash is stored.
type ResetLink struct {
	Token     string
	UserID    string
	Email     string
	ExpiresAt time.Time
}

// URL is the link to hand to the user, under the portal's base URL.
func (l ResetLink) URL(base string) string {
	return strings.TrimRight(base, "/") + "/login/reset?token=" + url.QueryEscape(l.Token)
}

// IssueResetLink stores a single-use reset link for a user of orgID. The
// user is looked up within orgID, so another organization's user is
// store.ErrNotFound.
func (a *Accounts) IssueResetLink(ctx context.Context, by Issuer, orgID, userID string) (ResetLink, error) {
	u, err := a.Store.User(ctx, orgID, userID)
	if err != nil {
		return ResetLink{}, err
	}
	if u.PasswordHash == "" {
		return ResetLink{}, ErrNotPoolUser
	}
	if u.PlatformAdmin && !by.PlatformAdmin {
		return ResetLink{}, ErrPlatformAdminTarget
	}
	ttl := a.ResetTTL
	if ttl <= 0 {
		ttl = DefaultResetTTL
	}
	token, hash := NewResetToken()
	r := store.PasswordReset{TokenHash: hash, UserID: u.ID, OrgID: orgID, CreatedBy: by.Actor.Label,
		ExpiresAt: a.Now().Add(ttl)}
	err = a.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreatePasswordReset(ctx, &r); err != nil {
			return err
		}
		return tx.Audit(ctx, by.Actor.Event(orgID, "user.reset_link", "user", u.ID), nil,
			map[string]any{"expires_at": r.ExpiresAt})
	})
	if err != nil {
		return ResetLink{}, err
	}
	return ResetLink{Token: token, UserID: u.ID, Email: u.Email, ExpiresAt: r.ExpiresAt}, nil
}
