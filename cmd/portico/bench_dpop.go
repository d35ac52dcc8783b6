package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"portico/store"
)

const (
	// maxDPoPPhase keeps pre-signed proofs inside the server's acceptance
	// window (iat at most 60 s old).
	maxDPoPPhase = 45 * time.Second
	// maxPresigned bounds the signing done before the DPoP phase.
	maxPresigned = 200_000
)

// proofSource hands out DPoP proofs (RFC 9449) for POSTs to htu, signed
// with one ES256 key: pre-signed ones first, so the load generator's
// signing does not compete with the server for the cores during the
// phase, then signed on demand.
type proofSource struct {
	htu    string
	now    func() time.Time
	signer jose.Signer
	mu     sync.Mutex
	ready  []string
	signed atomic.Int64
}

func newProofSource(htu string, presign int, now func() time.Time) (*proofSource, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		return nil, err
	}
	p := &proofSource{htu: htu, now: now, signer: signer, ready: make([]string, 0, presign)}
	for range presign {
		s, err := p.sign()
		if err != nil {
			return nil, err
		}
		p.ready = append(p.ready, s)
	}
	return p, nil
}

func (p *proofSource) sign() (string, error) {
	return signDPoP(p.signer, "POST", p.htu, "", p.now())
}

// signDPoP signs a DPoP proof for a request; token, when set, is the
// access token the proof is bound to (ath).
func signDPoP(signer jose.Signer, method, htu, token string, iat time.Time) (string, error) {
	c := map[string]any{"jti": store.NewID(), "htm": method, "htu": htu, "iat": iat.Unix()}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		c["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	claims, _ := json.Marshal(c)
	jws, err := signer.Sign(claims)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// next returns a proof no one else got.
func (p *proofSource) next() (string, error) {
	p.mu.Lock()
	if n := len(p.ready); n > 0 {
		s := p.ready[n-1]
		p.ready = p.ready[:n-1]
		p.mu.Unlock()
		return s, nil
	}
	p.mu.Unlock()
	p.signed.Add(1)
	return p.sign()
}

// onTheFly counts the proofs signed after the pre-signed ones ran out.
func (p *proofSource) onTheFly() int { return int(p.signed.Load()) }
