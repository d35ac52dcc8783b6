package authserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"portico/store"
)

// memJTIs is an in-memory jti store for the fuzzer: replays are refused as
// the database would refuse them.
type memJTIs struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (m *memJTIs) UseDPoPJTIs(_ context.Context, jtis []store.DPoPJTI) ([]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]bool, len(jtis))
	for i, j := range jtis {
		out[i] = !m.seen[j.Key]
		m.seen[j.Key] = true
	}
	return out, nil
}

// FuzzDPoPProof feeds arbitrary DPoP headers to the proof verifier: it must
// never panic, and what it accepts must carry a key thumbprint, name this
// request's method and URL, and be refused when sent again.
func FuzzDPoPProof(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	proof := func(claims map[string]any, typ string) string {
		opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ))
		opts.EmbedJWK = true
		sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, opts)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := json.Marshal(claims)
		jws, err := sig.Sign(b)
		if err != nil {
			f.Fatal(err)
		}
		s, _ := jws.CompactSerialize()
		return s
	}
	htu := "https://portico.example/token"
	f.Add(proof(map[string]any{"jti": "a", "htm": "POST", "htu": htu, "iat": now.Unix()}, "dpop+jwt"))
	f.Add(proof(map[string]any{"jti": "b", "htm": "GET", "htu": htu, "iat": now.Unix()}, "dpop+jwt"))
	f.Add(proof(map[string]any{"jti": "c", "htm": "POST", "htu": htu, "iat": now.Unix()}, "JWT"))
	f.Add(proof(map[string]any{"jti": "d", "htm": "POST", "htu": htu, "iat": now.Unix(), "nonce": "x"}, "dpop+jwt"))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("")
	s := &Server{now: func() time.Time { return now }, hash: &hasher{key: make([]byte, 32)},
		jtis: &jtiBatcher{st: &memJTIs{seen: map[string]bool{}}, now: func() time.Time { return now }}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest("POST", htu, nil)
		r.Header.Set("DPoP", header)
		p, derr := s.verifyDPoP(context.Background(), r, htu, "")
		if derr == nil && p != nil {
			if !validJKT(p.jkt) {
				t.Fatalf("accepted a proof without a valid thumbprint: %+v", p)
			}
			// What was accepted names this request, and is single-use.
			jws, err := jose.ParseSigned(header, dpopAlgs)
			if err != nil {
				t.Fatalf("accepted an unparsable proof: %v", err)
			}
			var c dpopClaims
			if json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c) != nil || c.HTM != "POST" || normalizeHTU(c.HTU) != htu {
				t.Fatalf("accepted a proof for another request: %+v", c)
			}
			if _, again := s.verifyDPoP(context.Background(), r, htu, ""); again == nil {
				t.Fatalf("accepted the same proof twice: %q", header)
			}
		}
		if derr != nil && (derr.code == "" || derr.description == "") {
			t.Fatalf("error without code or description: %+v", derr)
		}
	})
}

// FuzzClientMetadataDocument feeds arbitrary JSON as a client ID metadata
// document: it must never panic, and a client it accepts has the document's
// URL as client_id and at least one redirect URI.
func FuzzClientMetadataDocument(f *testing.F) {
	id := "https://app.example/client.json"
	f.Add([]byte(`{"client_id":"https://app.example/client.json","client_name":"App","redirect_uris":["https://app.example/cb"]}`))
	f.Add([]byte(`{"client_id":"https://app.example/client.json","redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://app.example/jwks"}`))
	f.Add([]byte(`{"client_id":"https://app.example/client.json","client_secret":"x","redirect_uris":["https://app.example/cb"]}`))
	f.Add([]byte(`{"client_id":"https://evil.example/","redirect_uris":[]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var d metadataDoc
		if json.Unmarshal(data, &d) != nil {
			return
		}
		c, _, err := clientFromDocument(id, d)
		if err != nil {
			return
		}
		if c.ClientID != id || len(c.RedirectURIs) == 0 {
			t.Fatalf("accepted %s as %+v", data, c)
		}
	})
}
