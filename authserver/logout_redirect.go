package authserver

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"
)

// logoutTicket is what end_session hands the portal's logout page: the
// registered post-logout URI it vetted, for which client, the RP's state,
// and whether an id_token_hint named the client. It travels in the URL,
// MACed under the server's key, so the page cannot be made to redirect
// anywhere end_session did not approve, and it expires.
type logoutTicket struct {
	Client string `json:"c"`
	URI    string `json:"u"`
	State  string `json:"s,omitempty"`
	Hinted bool   `json:"h,omitempty"`
	Expiry int64  `json:"x"`
}

// logoutTicketLife is how long the person has to answer the logout page.
const logoutTicketLife = 10 * time.Minute

const purposeLogoutTicket = "logout_ticket"

func (s *Server) logoutTicket(t logoutTicket) string {
	b, _ := json.Marshal(t)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + s.hash.sum(purposeLogoutTicket, payload)
}

// LogoutDestination opens a ticket from end_session: it returns the
// post-logout URI (with the RP's state) and whether an id_token_hint named
// the client. ok is false for a forged, damaged or expired ticket, and when
// the client no longer exists, is disabled, or no longer registers the URI.
// The portal's logout page redirects only to what this vouches for, and,
// when hinted is false, only after the person clicks.
func (s *Server) LogoutDestination(ctx context.Context, ticket string) (uri string, hinted, ok bool) {
	payload, mac, found := strings.Cut(ticket, ".")
	if !found || subtle.ConstantTimeCompare([]byte(mac), []byte(s.hash.sum(purposeLogoutTicket, payload))) != 1 {
		return "", false, false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", false, false
	}
	var t logoutTicket
	if json.Unmarshal(b, &t) != nil || s.now().Unix() > t.Expiry {
		return "", false, false
	}
	e, err := s.client(ctx, t.Client)
	if err != nil || !e.client.Enabled || !slices.Contains(e.client.PostLogoutRedirectURIs, t.URI) {
		return "", false, false
	}
	return withLogoutState(t.URI, t.State), t.Hinted, true
}

// withLogoutState is the post-logout redirect URI with the RP's state added.
func withLogoutState(registered, state string) string {
	if state == "" {
		return registered
	}
	u, err := url.Parse(registered)
	if err != nil {
		return registered
	}
	q := u.Query()
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return u.String()
}
