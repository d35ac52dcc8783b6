package authserver

import (
	"net/http"
	"net/url"
)

// issWriter adds RFC 9207's iss parameter to the error redirects /authorize
// sends to a client's redirect URI. Our own successful responses carry it
// already (clientRedirect), but op builds the error redirect itself, for its
// own validation failures and for ours (TryErrorRedirect), with no hook for
// extra parameters: so the one place every such redirect passes is its
// Location header on the way out. Discovery advertises
// authorization_response_iss_parameter_supported, so a strict client refuses
// a response without iss, error responses included (§2.4).
type issWriter struct {
	http.ResponseWriter
	issuer string
}

func (w *issWriter) WriteHeader(code int) {
	if code == http.StatusFound || code == http.StatusSeeOther {
		if loc := w.Header().Get("Location"); loc != "" {
			w.Header().Set("Location", withIss(loc, w.issuer))
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

// withIss returns loc with iss added where its error parameter is (query, or
// fragment for a fragment-encoded response); anything else is unchanged.
func withIss(loc, issuer string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	if q := u.Query(); q.Get("error") != "" {
		if !q.Has("iss") {
			q.Set("iss", issuer)
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	if f, err := url.ParseQuery(u.Fragment); err == nil && f.Get("error") != "" && !f.Has("iss") {
		f.Set("iss", issuer)
		u.Fragment = f.Encode()
		return u.String()
	}
	return loc
}
