package authserver_test

import (
	"crypto/x509"
	"net/netip"
	"net/url"
	"testing"

	"portico/authserver"
)

// TestAuthorizerAcceptsMetadataDocumentClients: a token issued to a client
// identified by its metadata document's URL passes the gateway authorizer
// like any other (it was refused as "client no longer exists"), bound to the
// signed-in user's organization; once that organization refuses such
// clients, its tokens stop at the gateway too.
func TestAuthorizerAcceptsMetadataDocumentClients(t *testing.T) {
	d := newDocServer(t)
	d.docs["/agent.json"] = goodDoc
	d.cache["/agent.json"] = "max-age=3600"
	pool := x509.NewCertPool()
	pool.AddCert(d.ts.Certificate())
	g := &pathGate{}
	w := newWorld(t, func(c *authserver.Config) {
		c.UpstreamAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.ClientMetadata = authserver.ClientMetadataConfig{Enabled: true, RootCAs: pool}
		c.Gate = authserver.Chain{authserver.DefaultGate{}, g}
	})
	id := d.url("/agent.json")
	verifier, challenge := pkce()
	u, status, body := w.authorize(url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {redirectBase},
		"scope": {"openid"}, "state": {"st"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}})
	if u == nil || u.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %v %s", status, u, body)
	}
	st, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")},
		"redirect_uri": {redirectBase}, "code_verifier": {verifier}, "client_id": {id}}, "", "")
	if st != 200 {
		t.Fatalf("token: %d %v", st, tok)
	}
	a := w.srv.Authorizer(authserver.AuthorizerConfig{})
	call := map[string]string{"Authorization": "Bearer " + tok["access_token"].(string), "X-Original-URI": "/open/x", "X-Original-Method": "GET"}
	rec := authzCall(a, "127.0.0.1", "/authz", call)
	if rec.Code != 200 || rec.Header().Get("X-Portico-Subject") != w.user.ID || rec.Header().Get("X-Portico-Org") != "acme" {
		t.Fatalf("metadata-document client's token: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if err := w.st.SetOrgAllowsClientMetadata(w.ctx, w.org.ID, false); err != nil {
		t.Fatal(err)
	}
	if rec := authzCall(a, "127.0.0.1", "/authz", call); rec.Code != 401 {
		t.Fatalf("organization refusing metadata clients: %d %s", rec.Code, rec.Body)
	}
}
