package authserver

import (
	"net/http"

	"github.com/rs/cors"
)

// corsOptions are op's default CORS options plus what browser clients need
// for DPoP: to send the DPoP header (which makes every token and userinfo
// request preflighted) and to read DPoP-Nonce and WWW-Authenticate.
func corsOptions() cors.Options {
	return cors.Options{
		AllowCredentials: true,
		AllowedHeaders:   []string{"Origin", "Accept", "Accept-Language", "Authorization", "Content-Type", "X-Requested-With", "DPoP"},
		AllowedMethods:   []string{http.MethodGet, http.MethodHead, http.MethodPost},
		ExposedHeaders:   []string{"Location", "Content-Length", "DPoP-Nonce", "WWW-Authenticate"},
		AllowOriginFunc:  func(string) bool { return true },
	}
}

// corsPath reports whether a path's requests may come from browser
// clients' scripts and are checked by us before op sees them, so that
// preflights and our own early answers (a refused proof, a throttle) need
// the CORS headers too.
func (s *Server) corsPath(p string) bool {
	e := s.endpoint
	return p == e.token || p == e.par || p == e.userinfo || p == e.introspect || p == e.revoke
}
