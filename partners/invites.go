package partners

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/mail"
	"strings"
	"time"

	"portico/store"
)

// Invitation lifetimes a manager may choose; DefaultInviteTTL when none is
// given.
const (
	DefaultInviteTTL = 7 * 24 * time.Hour
	MaxInviteTTL     = 30 * 24 * time.Hour
)

// Passwords is what accepting an invitation needs from the identity pool:
// a strength check and a hash. The consumer declares it so that partners
// does not import a sibling package; cmd/portico and handlers pass the
// pool's functions.
type Passwords interface {
	// Weakness returns why a new password is refused, or "".
	Weakness(password string) string
	Hash(password string) (string, error)
}

// InviteInput is an invitation as a form or the CLI gives it.
type InviteInput struct {
	Email string
	Role  store.Role
	TTL   time.Duration // 0: DefaultInviteTTL
}

// NewInvitation is a created invitation and its link's token, which exists
// nowhere else: show or send it once.
type NewInvitation struct {
	Invitation store.Invitation
	Token      string
}

// Invite creates a single-use invitation to orgID. The token goes into a
// link; only its hash is stored.
func (s *Service) Invite(ctx context.Context, m Manager, orgID string, in InviteInput) (NewInvitation, error) {
	var out NewInvitation
	if !m.canManage(orgID) {
		return out, ErrNotAllowed
	}
	org, err := s.Store.Organization(ctx, orgID)
	if err != nil {
		return out, err
	}
	errs := FieldErrors{}
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		errs["email"] = "Enter an email address like name@example.com."
	} else if _, err := s.Store.UserByEmail(ctx, orgID, email); err == nil {
		errs["email"] = "This person is already a member of the organization."
	} else if !errors.Is(err, store.ErrNotFound) {
		return out, err
	} else if msg, err := s.domainOwnedElsewhere(ctx, m, orgID, email); err != nil {
		return out, err
	} else if msg != "" {
		errs["email"] = msg
	}
	switch {
	case !in.Role.Valid():
		errs["role"] = "Choose admin, developer or member."
	case in.Role.Rank() > m.rank():
		errs["role"] = "You cannot invite someone with a role above your own."
	}
	ttl := in.TTL
	if ttl == 0 {
		ttl = DefaultInviteTTL
	}
	if ttl < time.Hour || ttl > MaxInviteTTL {
		errs["ttl"] = "An invitation is valid for between 1 hour and 30 days."
	}
	if r := org.InactiveReason(s.now()); r != "" {
		errs["email"] = "Nobody can join now because " + r + "."
	}
	if err := errs.orNil(); err != nil {
		return out, err
	}
	token := newToken()
	inv := store.Invitation{OrgID: orgID, Email: email, Role: in.Role, TokenHash: hashToken(token),
		InvitedBy: m.Actor.UserID, ExpiresAt: s.now().Add(ttl)}
	err = s.Store.InTx(ctx, func(tx *store.Store) error {
		// A second invitation to the same address replaces the first: only
		// the newest link works, with the newest role.
		replaced, err := tx.RevokePendingInvitations(ctx, orgID, email, s.now())
		if err != nil {
			return err
		}
		if replaced > 0 {
			if err := tx.Audit(ctx, m.Actor.Event(orgID, "member.invite_replace", "invitation", email), nil,
				map[string]any{"email": email, "revoked": replaced}); err != nil {
				return err
			}
		}
		if err := tx.CreateInvitation(ctx, &inv); err != nil {
			return err
		}
		return tx.Audit(ctx, m.Actor.Event(orgID, "member.invite", "invitation", inv.ID), nil, inv)
	})
	return NewInvitation{Invitation: inv, Token: token}, err
}

// domainOwnedElsewhere applies the rule sign-in applies: an address in a
// domain another organization owns belongs to that organization, so
// nobody else may invite it (an invitation is a way into an
// organization, and the account would carry that address). It returns
// the message for the inviter, or "". A platform admin is told which
// organization owns the domain; an org admin, who may not know the other
// organizations, only that another one does.
func (s *Service) domainOwnedElsewhere(ctx context.Context, m Manager, orgID, email string) (string, error) {
	domain := email[strings.LastIndexByte(email, '@')+1:]
	owner, err := s.Store.OrganizationByDomain(ctx, domain)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	case owner.ID == orgID:
		return "", nil
	case m.PlatformAdmin:
		return "The domain " + domain + " belongs to the organization " + owner.Name + " (" + owner.Slug +
			"); invite this person there instead.", nil
	}
	return "The domain " + domain + " belongs to another organization; you cannot invite its addresses.", nil
}

// InvitationMailed records that inv's link was sent by email to the
// invited address and shown nowhere else, so that accepting it proves the
// mailbox and the account's email counts as verified. Call it only after
// the mail was handed over; a link also shown on screen proves nothing.
func (s *Service) InvitationMailed(ctx context.Context, m Manager, inv store.Invitation) error {
	if !m.canManage(inv.OrgID) {
		return ErrNotAllowed
	}
	return s.Store.MarkInvitationMailed(ctx, inv.OrgID, inv.ID)
}

// RevokeInvitation withdraws a pending invitation of orgID.
func (s *Service) RevokeInvitation(ctx context.Context, m Manager, orgID, id string) error {
	if !m.canManage(orgID) {
		return ErrNotAllowed
	}
	return s.Store.InTx(ctx, func(tx *store.Store) error {
		before, err := tx.Invitation(ctx, orgID, id)
		if err != nil {
			return err
		}
		if err := tx.RevokeInvitation(ctx, orgID, id, s.now()); errors.Is(err, store.ErrConflict) {
			return FieldErrors{"invitation": "This invitation is no longer pending."}
		} else if err != nil {
			return err
		}
		after, err := tx.Invitation(ctx, orgID, id)
		if err != nil {
			return err
		}
		return tx.Audit(ctx, m.Actor.Event(orgID, "member.invite_revoke", "invitation", id), before, after)
	})
}

// ErrInvitationUnusable means the link is unknown, used, revoked or expired,
// or its organization may not take members now. People are told only that
// the link is not valid any more, never which of these it was.
var ErrInvitationUnusable = errors.New("partners: invitation unusable")

// PendingInvitation returns the invitation a link's token opens, with its
// organization, if it can still be accepted at now.
func (s *Service) PendingInvitation(ctx context.Context, token string) (store.Invitation, store.Organization, error) {
	inv, err := s.Store.InvitationByTokenHash(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return inv, store.Organization{}, ErrInvitationUnusable
	}
	if err != nil {
		return inv, store.Organization{}, err
	}
	now := s.now()
	if inv.State(now) != "pending" {
		return inv, store.Organization{}, ErrInvitationUnusable
	}
	org, err := s.Store.Organization(ctx, inv.OrgID)
	if err != nil {
		return inv, org, err
	}
	if org.InactiveReason(now) != "" {
		return inv, org, ErrInvitationUnusable
	}
	return inv, org, nil
}

// AcceptInput is what the invited person fills in.
type AcceptInput struct {
	Name     string
	Password string
}

// AcceptInvitation creates the invited person's identity-pool account in the
// inviting organization, with the invited role, and uses the invitation up.
// It happens once: a second acceptance of the same link fails.
func (s *Service) AcceptInvitation(ctx context.Context, pw Passwords, token string, in AcceptInput) (store.User, error) {
	var u store.User
	inv, _, err := s.PendingInvitation(ctx, token)
	if err != nil {
		return u, err
	}
	errs := FieldErrors{}
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 100 {
		errs["name"] = "Give your name, 1–100 characters."
	}
	if w := pw.Weakness(in.Password); w != "" {
		errs["password"] = w
	}
	if err := errs.orNil(); err != nil {
		return u, err
	}
	hash, err := pw.Hash(in.Password)
	if err != nil {
		return u, err
	}
	err = s.Store.InTx(ctx, func(tx *store.Store) error {
		// The domain may have been claimed by another organization since
		// the invitation was made; sign-in would refuse it now, so must this.
		if owner, err := tx.OrganizationByDomain(ctx, inv.Email[strings.LastIndexByte(inv.Email, '@')+1:]); err == nil && owner.ID != inv.OrgID {
			return ErrInvitationUnusable
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// Only a link that went by email to the invited address proves the
		// invitee reads it; the inviter's word (a link shown on screen and
		// passed on) does not, and email_verified in ID tokens must not
		// claim more than was proven.
		u = store.User{OrgID: inv.OrgID, Email: inv.Email, EmailVerified: inv.LinkMailed, Name: name, Role: inv.Role, PasswordHash: hash}
		if err := tx.CreateUser(ctx, &u); errors.Is(err, store.ErrAlreadyExists) {
			return ErrInvitationUnusable
		} else if err != nil {
			return err
		}
		if err := tx.ConsumeInvitation(ctx, inv.OrgID, inv.ID, u.ID, s.now()); errors.Is(err, store.ErrConflict) {
			return ErrInvitationUnusable
		} else if err != nil {
			return err
		}
		actor := store.Actor{UserID: u.ID, Label: u.Email}
		return tx.Audit(ctx, actor.Event(inv.OrgID, "member.join", "user", u.ID), nil, MemberOf(u))
	})
	return u, err
}

// newToken returns 256 random bits, URL-safe.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is how invitation tokens are stored: SHA-256, hex. The token
// has 256 bits of entropy, so a plain hash is enough.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
