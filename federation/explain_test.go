package federation_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/crewjam/saml/samlsp"

	"portico/federation"
)

// Each kind of failure a connection test meets, produced for real (a
// server that answers 404, one with a certificate nobody trusts, a closed
// port…), is explained in words naming its kind.
func TestExplainSaysWhyAConnectionFailed(t *testing.T) {
	mux := http.NewServeMux()
	var srvURL string
	mux.HandleFunc("/notfound/.well-known/openid-configuration", http.NotFound)
	mux.HandleFunc("/garbage/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "<html>not json</html>")
	})
	mux.HandleFunc("/other/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"x","token_endpoint":"y","jwks_uri":"z"}`, srvURL+"/elsewhere")
	})
	mux.HandleFunc("/metadata", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusForbidden) })
	mux.HandleFunc("/slow/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	srvURL = srv.URL
	tlsSrv := httptest.NewTLSServer(mux)
	t.Cleanup(tlsSrv.Close)

	discover := func(ctx context.Context, issuer string) error {
		_, err := gooidc.NewProvider(gooidc.ClientContext(ctx, &http.Client{}), issuer)
		return err
	}
	bg := context.Background()
	cases := map[string]struct {
		err  func() error
		want string
	}{
		"http status": {func() error { return discover(bg, srv.URL+"/notfound") }, "HTTP status 404"},
		"not json":    {func() error { return discover(bg, srv.URL+"/garbage") }, "not the JSON"},
		"issuer":      {func() error { return discover(bg, srv.URL+"/other") }, "names the issuer"},
		"tls":         {func() error { return discover(bg, tlsSrv.URL+"/notfound") }, "TLS:"},
		"plain http on a TLS port": {func() error {
			return discover(bg, strings.Replace(srv.URL, "http://", "https://", 1)+"/notfound")
		}, "did not answer with TLS"},
		"refused": {func() error { return discover(bg, "http://127.0.0.1:1") }, "Connection refused"},
		"timeout": {func() error {
			ctx, cancel := context.WithTimeout(bg, 100*time.Millisecond)
			defer cancel()
			return discover(ctx, srv.URL+"/slow")
		}, "Timeout"},
		"dns": {func() error { return discover(bg, "http://no-such-host.invalid") }, "DNS:"},
		"saml status": {func() error {
			u, _ := url.Parse(srv.URL + "/metadata")
			_, err := samlsp.FetchMetadata(bg, &http.Client{}, *u)
			return err
		}, "HTTP status 403"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := tc.err()
			if err == nil {
				t.Fatal("no error")
			}
			if got := federation.Explain(fmt.Errorf("wrapped: %w", err)); !strings.Contains(got, tc.want) {
				t.Errorf("Explain(%v) = %q, want it to contain %q", err, got, tc.want)
			}
		})
	}
	if got := federation.Explain(fmt.Errorf("something else")); got != "" {
		t.Errorf("an unknown cause is explained as %q", got)
	}
}
