package authserver

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"hash"
	"sync"
)

// hmacKeySetting names the setting that holds the sealed secret-hashing key.
const hmacKeySetting = "authserver.hmac_key"

// hasher stores every credential Portico generates (client secrets, codes,
// refresh tokens, registration tokens) as HMAC-SHA-256 under a server key.
// The values are 256-bit random, so a fast keyed hash is as safe as bcrypt
// against guessing, and costs 0.2µs instead of 60ms per check; the key, kept
// sealed, means a stolen database alone cannot even test a guess.
type hasher struct {
	key []byte
	// macs keeps keyed HMAC states for reuse: hmac.New derives the pads
	// and allocates on every call, and every token request hashes a secret.
	macs sync.Pool
}

// loadHasher reads the key, generating and sealing it on first run.
func loadHasher(ctx context.Context, st interface {
	EnsureSetting(ctx context.Context, key string, gen func() ([]byte, error)) ([]byte, error)
}, sealer interface {
	Seal(plaintext []byte, purpose string) []byte
	Open(sealed []byte, purpose string) ([]byte, error)
}) (*hasher, error) {
	sealed, err := st.EnsureSetting(ctx, hmacKeySetting, func() ([]byte, error) {
		k := make([]byte, 32)
		rand.Read(k)
		return sealer.Seal(k, hmacKeySetting), nil
	})
	if err != nil {
		return nil, fmt.Errorf("authserver: hashing key: %w", err)
	}
	key, err := sealer.Open(sealed, hmacKeySetting)
	if err != nil {
		return nil, fmt.Errorf("authserver: hashing key: %w", err)
	}
	return &hasher{key: key}, nil
}

// sum returns the keyed hash of value for a purpose ("secret", "code"…), so
// a value of one kind never matches a stored hash of another.
func (h *hasher) sum(purpose, value string) string {
	m, _ := h.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, h.key)
	} else {
		m.Reset()
	}
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	var out [sha256.Size]byte
	sum := base64.RawURLEncoding.EncodeToString(m.Sum(out[:0]))
	h.macs.Put(m)
	return sum
}

// equal compares a presented value with a stored hash in constant time.
func (h *hasher) equal(purpose, value, stored string) bool {
	got := h.sum(purpose, value)
	return subtle.ConstantTimeCompare([]byte(got), []byte(stored)) == 1
}

// Hash purposes.
const (
	purposeSecret       = "client_secret"
	purposeCode         = "code"
	purposeRefresh      = "refresh_token"
	purposeRegistration = "registration_token"
	purposeRegAccess    = "registration_access_token"
)

// newToken returns 32 random bytes, base64url: client secrets, codes,
// refresh and registration tokens.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
