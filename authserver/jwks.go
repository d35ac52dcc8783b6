package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"portico/store"
)

// remoteJWKS caches clients' jwks_uri documents for a few minutes, so
// private_key_jwt does not fetch on every request; a key rotated by the client
// is picked up when the entry expires. A failed fetch is remembered per URL
// with a doubling backoff (fetch_backoff.go), so assertions naming a client
// whose jwks_uri is down are refused without fetching it again each time.
type remoteJWKS struct {
	client *http.Client
	now    func() time.Time
	mu     sync.Mutex
	m      map[string]*remoteKeys // by jwks_uri
}

// remoteKeys is one URL's entry; its lock is held during a fetch, so
// concurrent assertions for one client wait for one fetch instead of each
// making their own.
type remoteKeys struct {
	mu      sync.Mutex
	set     jose.JSONWebKeySet
	fetched time.Time // zero: never fetched successfully
	fail    fetchFailure
}

const jwksCacheFor = 5 * time.Minute

// clientKeys returns the client's public keys: its registered JWKS, or the
// document at its jwks_uri.
func (s *Server) clientKeys(ctx context.Context, c *store.Client) (jose.JSONWebKeySet, error) {
	if c.JWKS != "" {
		return parseJWKS(c.JWKS)
	}
	if c.JWKSURI == "" {
		return jose.JSONWebKeySet{}, errors.New("client has no keys")
	}
	if !strings.HasPrefix(c.JWKSURI, "https://") && !s.cfg.AllowInsecure {
		return jose.JSONWebKeySet{}, errors.New("jwks_uri must be https")
	}
	return s.jwks.get(ctx, c.JWKSURI)
}

func (r *remoteJWKS) entry(uri string) *remoteKeys {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.m[uri]
	if !ok {
		if len(r.m) > 1000 { // bounded: drop everything rather than grow
			r.m = map[string]*remoteKeys{}
		}
		k = &remoteKeys{}
		r.m[uri] = k
	}
	return k
}

func (r *remoteJWKS) get(ctx context.Context, uri string) (jose.JSONWebKeySet, error) {
	k := r.entry(uri)
	k.mu.Lock()
	defer k.mu.Unlock()
	now := r.now()
	if !k.fetched.IsZero() && now.Sub(k.fetched) < jwksCacheFor {
		return k.set, nil
	}
	if err := k.fail.blocked(uri, now); err != nil {
		return jose.JSONWebKeySet{}, err
	}
	set, err := r.fetch(ctx, uri)
	if err != nil {
		if ctx.Err() == nil { // the caller gave up: says nothing of the URL
			k.fail.failed(uri, err, now)
		}
		return jose.JSONWebKeySet{}, err
	}
	k.fail.succeeded()
	k.set, k.fetched = set, now
	return set, nil
}

func (r *remoteJWKS) fetch(ctx context.Context, uri string) (jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return jose.JSONWebKeySet{}, fmt.Errorf("fetch jwks_uri: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return jose.JSONWebKeySet{}, fmt.Errorf("fetch jwks_uri: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	if err != nil {
		return jose.JSONWebKeySet{}, fmt.Errorf("fetch jwks_uri: %w", err)
	}
	return parseJWKS(string(body))
}

// parseJWKS parses a JWK Set and insists on public keys only.
func parseJWKS(doc string) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(doc), &set); err != nil {
		return set, fmt.Errorf("not a JWK Set: %w", err)
	}
	if len(set.Keys) == 0 {
		return set, errors.New("the JWK Set has no keys")
	}
	for _, k := range set.Keys {
		if !k.Valid() || !k.IsPublic() {
			return set, errors.New("the JWK Set must hold valid public keys only")
		}
	}
	return set, nil
}
