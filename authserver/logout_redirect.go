package authserver

import (
	"context"
	"net/url"
	"strings"
)

// withLogoutState is the post-logout redirect URI with the RP's state added,
// as end_session hands it to the portal. PostLogoutRedirectAllowed rebuilds
// it the same way, so the two must stay one function.
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

// PostLogoutRedirectAllowed reports whether uri is exactly a
// post_logout_redirect_uri registered by some enabled client, or such a URI
// with a state parameter added by end_session. The portal's logout page asks
// before it redirects, so that the page cannot be used as an open redirect.
func (s *Server) PostLogoutRedirectAllowed(ctx context.Context, uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" {
		return false
	}
	base, _, _ := strings.Cut(uri, "?")
	registered, err := s.st.PostLogoutRedirectURIsLike(ctx, base)
	if err != nil {
		s.log.Error("post-logout redirect lookup", "err", err)
		return false
	}
	state := u.Query().Get("state")
	for _, r := range registered {
		if uri == r || (state != "" && uri == withLogoutState(r, state)) {
			return true
		}
	}
	return false
}
