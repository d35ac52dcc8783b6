package authserver

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"portico/store"
)

// ErrConsentRequired: the user has not allowed this third-party client
// the scopes it asks for (or the client sent prompt=consent). Show the
// consent page (ConsentPrompt), then GrantConsent and call CompleteLogin
// again, or DenyConsent.
var ErrConsentRequired = errors.New("authserver: the user's consent is required")

// Consent model: a client an admin has not marked first-party is
// third-party, and gets a code only for scopes the user has allowed it on
// the consent page. The grant is kept per (user, client) as the union of
// the scopes allowed, so a later request for a subset goes straight
// through; prompt=consent asks again regardless, and prompt=none without a
// covering grant ends with consent_required.

// consentStore is the part of the store the consent step reads (grants
// are written inside InTx, on *store.Store).
type consentStore interface {
	Consent(ctx context.Context, userID, clientID string) (store.Consent, error)
}

var _ consentStore = (*store.Store)(nil)

func (s *Server) consents() (consentStore, error) {
	cs, ok := s.st.(consentStore)
	if !ok { // fail closed: no code for a third-party client without consent records
		return nil, fmt.Errorf("authserver: the store keeps no consents (%T)", s.st)
	}
	return cs, nil
}

// needsConsent decides the consent step of CompleteLogin for a request
// the gate has permitted: "" when the code may be issued, otherwise the
// error code to send the client (consent_required, for prompt=none) or
// ErrConsentRequired.
func (s *Server) needsConsent(ctx context.Context, ar store.AuthRequest, c *store.Client, userID string) (string, error) {
	if c.FirstParty {
		return "", nil
	}
	cs, err := s.consents()
	if err != nil {
		return "", err
	}
	g, err := cs.Consent(ctx, userID, c.ClientID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return "", err
	case !g.Covers(ar.Scopes):
	case slices.Contains(ar.Prompt, oidc.PromptConsent) && g.GrantedAt.Before(ar.CreatedAt):
		// prompt=consent: only an Allow given for this request counts.
	default:
		return "", nil
	}
	if slices.Contains(ar.Prompt, oidc.PromptNone) {
		return "consent_required", nil
	}
	return "", ErrConsentRequired
}

// ScopeText is one scope as the consent page states it.
type ScopeText struct {
	Name        string
	Description string
	Group       string // the ScopeGroup title: sign-in, portal or the API's name
}

// ConsentRequest is what the consent page shows: which app, from which
// organization, asks for what.
type ConsentRequest struct {
	ID         string
	ClientID   string
	ClientName string
	LogoURL    string
	OrgName    string // "" for a metadata-document client
	Scopes     []ScopeText
	// Unverified is what a metadata-document client says about itself
	// (not verified by the platform); nil for registered clients.
	Unverified *ClientMetadata
}

// builtinScopeText says in words what each OpenID Connect scope gives.
var builtinScopeText = map[string]string{
	scopeOpenID:        "Know who you are: your account identifier at Portico",
	scopeProfile:       "See your name and profile",
	scopeEmail:         "See your email address",
	scopeOfflineAccess: "Keep access when you are not using it, until you revoke it",
	scopeGroups:        "See the groups you belong to",
}

// ConsentPrompt returns the pending authorization request for the consent
// page. Unknown, expired or completed requests are ErrUnknownAuthRequest.
func (s *Server) ConsentPrompt(ctx context.Context, authRequestID string) (ConsentRequest, error) {
	ar, e, err := s.pendingRequest(ctx, authRequestID)
	if err != nil {
		return ConsentRequest{}, err
	}
	registered, err := s.st.Scopes(ctx)
	if err != nil {
		return ConsentRequest{}, err
	}
	out := ConsentRequest{ID: ar.ID, ClientID: e.client.ClientID, ClientName: e.client.Name, LogoURL: e.client.LogoURL,
		OrgName: e.org.Name}
	if e.metadata != nil {
		m := *e.metadata
		out.Unverified = &m
	}
	groups, err := s.ScopeGroups(ctx, ar.Scopes)
	if err != nil {
		return ConsentRequest{}, err
	}
	for _, g := range groups {
		for _, sc := range g.Scopes {
			out.Scopes = append(out.Scopes, scopeText(sc, g.Title, registered))
		}
	}
	return out, nil
}

// scopeText says one scope in words: the built-in text, the registered
// description, or its name.
func scopeText(sc, group string, registered []store.Scope) ScopeText {
	t := ScopeText{Name: sc, Group: group, Description: builtinScopeText[sc]}
	if t.Description == "" {
		i := slices.IndexFunc(registered, func(r store.Scope) bool { return r.Name == sc })
		if i >= 0 && registered[i].Description != "" {
			t.Description = registered[i].Description
		} else {
			t.Description = "Use the API permission " + sc
		}
	}
	return t
}

// GrantConsent records that userID allowed the pending request's client
// its scopes, with its audit event (consent.grant, in the user's
// organization). Call CompleteLogin again afterwards.
func (s *Server) GrantConsent(ctx context.Context, authRequestID, userID string) error {
	ar, _, err := s.pendingRequest(ctx, authRequestID)
	if err != nil {
		return err
	}
	u, err := s.st.UserByID(ctx, userID)
	if err != nil {
		return fmt.Errorf("authserver: grant consent: %w", err)
	}
	return s.st.InTx(ctx, func(tx *store.Store) error {
		c, err := tx.GrantConsent(ctx, u.ID, ar.ClientID, ar.Scopes, s.now())
		if err != nil {
			return err
		}
		return tx.Audit(ctx, auditEvent(Actor{UserID: u.ID, Label: u.Email}, u.OrgID, "consent.grant", "client", ar.ClientID), nil, c)
	})
}

// DenyConsent ends the pending request because the user clicked Deny and
// returns the client redirect carrying error=access_denied (with state and
// iss).
func (s *Server) DenyConsent(ctx context.Context, authRequestID string) (string, error) {
	return s.AbortLogin(ctx, authRequestID, "access_denied", "the user did not allow the app")
}
