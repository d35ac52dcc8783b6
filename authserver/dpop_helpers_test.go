package authserver_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"portico/store"
)

// dpopKey is a client's DPoP key pair (ES256 unless made otherwise).
type dpopKey struct {
	t    testing.TB
	priv crypto.Signer
	alg  jose.SignatureAlgorithm
	jkt  string
}

func newDPoPKey(t testing.TB) *dpopKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return dpopKeyOf(t, priv, jose.ES256)
}

func dpopKeyOf(t testing.TB, priv crypto.Signer, alg jose.SignatureAlgorithm) *dpopKey {
	t.Helper()
	jwk := jose.JSONWebKey{Key: priv.Public()}
	th, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return &dpopKey{t: t, priv: priv, alg: alg, jkt: base64.RawURLEncoding.EncodeToString(th)}
}

// proofOpts changes a proof away from a valid one.
type proofOpts struct {
	typ    string         // "" means dpop+jwt
	claims map[string]any // overrides; a nil value deletes the claim
	token  string         // access token for ath
	nonce  string
}

// proof signs a DPoP proof for method and URL at time now.
func (k *dpopKey) proof(method, htu string, now time.Time, o proofOpts) string {
	k.t.Helper()
	typ := o.typ
	if typ == "" {
		typ = "dpop+jwt"
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv},
		(&jose.SignerOptions{EmbedJWK: true}).WithType(jose.ContentType(typ)))
	if err != nil {
		k.t.Fatal(err)
	}
	c := map[string]any{"jti": store.NewID(), "htm": method, "htu": htu, "iat": now.Unix()}
	if o.token != "" {
		h := sha256.Sum256([]byte(o.token))
		c["ath"] = base64.RawURLEncoding.EncodeToString(h[:])
	}
	if o.nonce != "" {
		c["nonce"] = o.nonce
	}
	for name, v := range o.claims {
		if v == nil {
			delete(c, name)
		} else {
			c[name] = v
		}
	}
	payload, _ := json.Marshal(c)
	jws, err := sig.Sign(payload)
	if err != nil {
		k.t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		k.t.Fatal(err)
	}
	return out
}

// reply is an HTTP answer decoded for assertions.
type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func (r reply) str(name string) string { s, _ := r.body[name].(string); return s }

// send posts form to path with optional Basic credentials and DPoP proofs.
func (w *world) send(path string, form url.Values, basicID, basicSecret string, proofs ...string) reply {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	return w.roundTrip(req)
}

func (w *world) roundTrip(req *http.Request) reply {
	w.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(b) > 0 && json.Unmarshal(b, &m) != nil {
		m = map[string]any{"_raw": string(b)}
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: m}
}

// wantOAuthError fails unless r is the RFC error code with status.
func wantOAuthError(t *testing.T, r reply, status int, code string) {
	t.Helper()
	if r.status != status || r.str("error") != code {
		t.Fatalf("got %d %v, want %d %s", r.status, r.body, status, code)
	}
}

// userinfo calls /userinfo with an Authorization header and optional proof.
func (w *world) userinfo(authorization, proof string) reply {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, w.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", authorization)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return w.roundTrip(req)
}

func decodeJSON(t testing.TB, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
