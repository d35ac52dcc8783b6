package federationtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// GitHubUser is the profile the GitHub-shaped server returns.
type GitHubUser struct {
	ID    int    `json:"id"`
	Login string `json:"login"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// GitHub stands in for GitHub Enterprise's OAuth and API endpoints, at the
// paths goth's github.NewCustomisedURL uses under a base URL.
type GitHub struct {
	URL          string
	ClientID     string
	ClientSecret string
	User         GitHubUser

	mu     sync.Mutex
	codes  map[string]bool
	tokens map[string]bool
}

// NewGitHub starts the server.
func NewGitHub(t testing.TB, clientID, clientSecret string, user GitHubUser) *GitHub {
	g := &GitHub{ClientID: clientID, ClientSecret: clientSecret, User: user, codes: map[string]bool{}, tokens: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != g.ClientID {
			http.Error(w, "unknown client", http.StatusBadRequest)
			return
		}
		code := random()
		g.mu.Lock()
		g.codes[code] = true
		g.mu.Unlock()
		to, _ := url.Parse(q.Get("redirect_uri"))
		v := to.Query()
		v.Set("code", code)
		v.Set("state", q.Get("state"))
		to.RawQuery = v.Encode()
		http.Redirect(w, r, to.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.FormValue("client_id"), r.FormValue("client_secret")
		}
		g.mu.Lock()
		valid := g.codes[r.FormValue("code")]
		delete(g.codes, r.FormValue("code"))
		tok := random()
		g.tokens[tok] = valid
		g.mu.Unlock()
		if id != g.ClientID || secret != g.ClientSecret || !valid {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "bad_verification_code"})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"access_token": tok, "token_type": "bearer", "scope": "read:user,user:email"})
	})
	auth := func(r *http.Request) bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		h := r.Header.Get("Authorization")
		return len(h) > 7 && g.tokens[h[7:]]
	}
	mux.HandleFunc("GET /api/v3/user", func(w http.ResponseWriter, r *http.Request) {
		if !auth(r) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(g.User)
	})
	mux.HandleFunc("GET /api/v3/user/emails", func(w http.ResponseWriter, r *http.Request) {
		if !auth(r) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode([]map[string]any{{"email": g.User.Email, "primary": true, "verified": true}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}
