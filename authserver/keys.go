package authserver

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"portico/store"
)

// Signing algorithms: ES256 for access tokens (cheap to sign), RS256 for ID
// tokens by default (what most relying parties assume); PS256 and ES256 are
// accepted as a client's id_token_signed_response_alg.
const (
	algES256 = "ES256"
	algRS256 = "RS256"
	algPS256 = "PS256"
)

// keyAlgs are the key kinds the server keeps one active key of. PS256 signs
// with the RSA key.
var keyAlgs = [...]string{algES256, algRS256}

// keyStore is what the keyring needs from the store.
type keyStore interface {
	SigningKeys(ctx context.Context, retiredAfter time.Time) ([]store.SigningKey, error)
	CreateSigningKey(ctx context.Context, k *store.SigningKey) error
	RetireSigningKeys(ctx context.Context, alg string, at time.Time) error
}

type sealer interface {
	Seal(plaintext []byte, purpose string) []byte
	Open(sealed []byte, purpose string) ([]byte, error)
}

// keySet is one loaded generation of keys.
type keySet struct {
	ver     int64
	signers map[string]*signingKey // by key alg (ES256, RS256): the active key
	public  map[string]crypto.PublicKey
	jwks    jose.JSONWebKeySet
}

// keyring holds the signing keys, reloaded when the database changes (so a
// `portico keys rotate` from the CLI takes effect at once) and generated on
// first run.
type keyring struct {
	st     keyStore
	sealer sealer
	now    func() time.Time
	keep   time.Duration // how long a retired key's tokens may live
	mu     sync.RWMutex
	set    *keySet
}

// current returns the key set, reloading it if the data version moved.
func (k *keyring) current(ctx context.Context, f *freshness) (*keySet, error) {
	ver, err := f.current(ctx)
	if err != nil {
		return nil, err
	}
	k.mu.RLock()
	set := k.set
	k.mu.RUnlock()
	if set != nil && set.ver == ver {
		return set, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.set != nil && k.set.ver == ver {
		return k.set, nil
	}
	set, err = k.load(ctx, ver)
	if err != nil {
		return nil, err
	}
	k.set = set
	return set, nil
}

func (k *keyring) load(ctx context.Context, ver int64) (*keySet, error) {
	now := k.now()
	rows, err := k.st.SigningKeys(ctx, now.Add(-k.keep))
	if err != nil {
		return nil, err
	}
	for _, alg := range keyAlgs {
		if !hasActive(rows, alg) {
			if err := k.createMissing(ctx, now); err != nil {
				return nil, err
			}
			if rows, err = k.st.SigningKeys(ctx, now.Add(-k.keep)); err != nil {
				return nil, err
			}
			break
		}
	}
	set := &keySet{ver: ver, signers: map[string]*signingKey{}, public: map[string]crypto.PublicKey{}}
	for _, row := range rows { // newest first
		var jwk jose.JSONWebKey
		if err := json.Unmarshal([]byte(row.PublicJWK), &jwk); err != nil {
			return nil, fmt.Errorf("authserver: key %s: %w", row.ID, err)
		}
		set.public[row.ID] = jwk.Key
		set.jwks.Keys = append(set.jwks.Keys, jwk)
		if row.Alg == algRS256 {
			// A JWK names one alg, and strict clients (oauth4webapi, go-jose
			// matching kid and alg) use a key only for that alg. PS256 ID
			// tokens therefore name a twin of the RSA key: same key, its own
			// kid, alg PS256.
			twin := jwk
			twin.KeyID, twin.Algorithm = pssKeyID(row.ID), algPS256
			set.public[twin.KeyID] = twin.Key
			set.jwks.Keys = append(set.jwks.Keys, twin)
		}
		if row.RetiredAt.IsZero() && set.signers[row.Alg] == nil {
			// Keys never change under their ID: one parsed by the previous
			// load is reused. Every commit moves SQLite's data version, so
			// under writes this runs up to every CacheRevalidate, and
			// unsealing and parsing the private keys (RSA above all) was a
			// tenth of a refresh grant's CPU.
			if k.set != nil {
				if prev := k.set.signers[row.Alg]; prev != nil && prev.id == row.ID {
					set.signers[row.Alg] = prev
					continue
				}
			}
			der, err := k.sealer.Open(row.PrivateKey, "signing-key:"+row.ID)
			if err != nil {
				return nil, fmt.Errorf("authserver: key %s: %w", row.ID, err)
			}
			priv, err := x509.ParsePKCS8PrivateKey(der)
			if err != nil {
				return nil, fmt.Errorf("authserver: key %s: %w", row.ID, err)
			}
			signer, ok := priv.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("authserver: key %s is not a signing key", row.ID)
			}
			set.signers[row.Alg] = newSigningKey(row.ID, row.Alg, signer)
		}
	}
	return set, nil
}

// pssKeyID is the kid under which an RSA key is published for PS256.
func pssKeyID(id string) string { return id + "-ps256" }

// createMissing makes a signing key for every algorithm that has no active
// one. With a store that has transactions it looks again under a lock, so
// that replicas starting together on a new PostgreSQL database make one key
// per algorithm, not one each.
func (k *keyring) createMissing(ctx context.Context, now time.Time) error {
	create := func(ctx context.Context, st keyStore) error {
		rows, err := st.SigningKeys(ctx, now.Add(-k.keep))
		if err != nil {
			return err
		}
		for _, alg := range keyAlgs {
			if !hasActive(rows, alg) {
				if _, err := generateKey(ctx, st, k.sealer, alg, now); err != nil {
					return err
				}
			}
		}
		return nil
	}
	txs, ok := k.st.(interface {
		InTx(ctx context.Context, fn func(tx *store.Store) error) error
	})
	if !ok {
		return create(ctx, k.st)
	}
	return txs.InTx(ctx, func(tx *store.Store) error {
		if err := tx.Lock(ctx, "signing-keys"); err != nil {
			return err
		}
		return create(ctx, tx)
	})
}

func hasActive(rows []store.SigningKey, alg string) bool {
	for _, r := range rows {
		if r.Alg == alg && r.RetiredAt.IsZero() {
			return true
		}
	}
	return false
}

// generateKey creates and stores a key of alg (ES256: P-256; RS256: RSA 2048).
func generateKey(ctx context.Context, st keyStore, sl sealer, alg string, now time.Time) (store.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case algES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case algRS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return store.SigningKey{}, fmt.Errorf("authserver: unknown key algorithm %q", alg)
	}
	if err != nil {
		return store.SigningKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, err
	}
	id := store.NewID()
	jwk := jose.JSONWebKey{Key: priv.Public(), KeyID: id, Algorithm: alg, Use: "sig"}
	pub, err := json.Marshal(jwk)
	if err != nil {
		return store.SigningKey{}, err
	}
	row := store.SigningKey{ID: id, Alg: alg, PublicJWK: string(pub), PrivateKey: sl.Seal(der, "signing-key:"+id), CreatedAt: now}
	return row, st.CreateSigningKey(ctx, &row)
}

// RotateKeys adds a new ES256 and a new RS256 key and retires the previous
// ones in one transaction. Retired public keys stay in the JWKS until every
// token they signed has expired. A running server picks the new keys up at
// once (it watches the database's data version). The CLI's `keys rotate`.
func RotateKeys(ctx context.Context, st interface {
	InTx(ctx context.Context, fn func(tx *store.Store) error) error
}, sl *store.Sealer, actor Actor, now time.Time) ([]store.SigningKey, error) {
	if sl == nil {
		return nil, errors.New("authserver: a sealer is required")
	}
	var out []store.SigningKey
	err := st.InTx(ctx, func(tx *store.Store) error {
		if err := tx.Lock(ctx, "signing-keys"); err != nil {
			return err
		}
		for _, alg := range keyAlgs {
			if err := tx.RetireSigningKeys(ctx, alg, now); err != nil {
				return err
			}
			k, err := generateKey(ctx, tx, sl, alg, now)
			if err != nil {
				return err
			}
			k.PrivateKey = nil
			out = append(out, k)
		}
		return tx.Audit(ctx, auditEvent(actor, "", "keys.rotate", "signing_key", ""), nil, out)
	})
	return out, err
}
