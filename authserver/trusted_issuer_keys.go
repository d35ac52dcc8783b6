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

// Bounds on how long a trusted issuer's keys are cached: its Cache-Control
// max-age, clamped, or issuerKeysDefault without one. An unknown kid makes
// the keys be fetched again at most once per issuerRefetchEvery, so a
// stream of tokens with made-up kids cannot turn Portico into a load
// generator against the partner.
const (
	issuerKeysMin      = time.Minute
	issuerKeysMax      = 24 * time.Hour
	issuerKeysDefault  = 5 * time.Minute
	issuerRefetchEvery = 30 * time.Second
)

// issuerKeyCache holds trusted issuers' JWK Sets, fetched through the
// server's guarded HTTP client (netguard: no private addresses outside the
// operator's allow list).
type issuerKeyCache struct {
	client        *http.Client
	now           func() time.Time
	allowInsecure bool
	mu            sync.Mutex
	m             map[string]*issuerKeys // by trusted issuer id
}

type issuerKeys struct {
	mu        sync.Mutex
	source    string // issuer|jwks_uri the set was fetched for
	set       jose.JSONWebKeySet
	expires   time.Time
	fetchedAt time.Time
	// The last failed fetch (fetch_backoff.go): while it is remembered the
	// issuer's tokens are refused with its error and nothing is fetched (a
	// discovery document and a JWK Set, up to 5 s each).
	fail fetchFailure
}

func (c *issuerKeyCache) entry(id string) *issuerKeys {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.m[id]
	if !ok {
		if len(c.m) > 10000 { // bounded: drop everything rather than grow
			c.m = map[string]*issuerKeys{}
		}
		k = &issuerKeys{}
		c.m[id] = k
	}
	return k
}

func (c *issuerKeyCache) forget(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// errUnknownKey: no key of the issuer has the token's kid, even after a
// refetch (or a refetch was not allowed yet).
var errUnknownKey = errors.New("no key of the issuer has this kid")

// keys returns the issuer's keys matching kid (all keys when kid is
// empty). Cached keys are used until they expire; an unknown kid refetches
// once the rate limit allows (the partner rotated its keys).
func (c *issuerKeyCache) keys(ctx context.Context, ti *store.TrustedIssuer, kid string) ([]jose.JSONWebKey, error) {
	k := c.entry(ti.ID)
	k.mu.Lock()
	defer k.mu.Unlock()
	now := c.now()
	source := ti.Issuer + "|" + ti.JWKSURI
	fresh := k.source == source && now.Before(k.expires)
	if fresh {
		if found := match(k.set, kid); len(found) > 0 {
			return found, nil
		}
		if now.Sub(k.fetchedAt) < issuerRefetchEvery {
			return nil, errUnknownKey
		}
	}
	if err := k.fail.blocked(source, now); err != nil {
		return nil, err
	}
	set, ttl, err := c.fetch(ctx, ti)
	if err != nil {
		if ctx.Err() == nil { // the caller gave up: says nothing of the issuer
			k.fail.failed(source, err, now)
		}
		return nil, err
	}
	k.fail.succeeded()
	k.source, k.set, k.fetchedAt, k.expires = source, set, now, now.Add(ttl)
	if found := match(set, kid); len(found) > 0 {
		return found, nil
	}
	return nil, errUnknownKey
}

func match(set jose.JSONWebKeySet, kid string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range set.Keys {
		if (kid == "" || k.KeyID == kid) && k.Use != "enc" {
			out = append(out, k)
		}
	}
	return out
}

// fetch reads the issuer's JWK Set: from its jwks_uri, or from the one its
// OpenID discovery document names (which must name the same issuer).
func (c *issuerKeyCache) fetch(ctx context.Context, ti *store.TrustedIssuer) (jose.JSONWebKeySet, time.Duration, error) {
	uri := ti.JWKSURI
	if uri == "" {
		body, _, err := c.get(ctx, strings.TrimSuffix(ti.Issuer, "/")+"/.well-known/openid-configuration")
		if err != nil {
			return jose.JSONWebKeySet{}, 0, fmt.Errorf("discovery: %w", err)
		}
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			return jose.JSONWebKeySet{}, 0, fmt.Errorf("discovery: %w", err)
		}
		if doc.Issuer != ti.Issuer {
			return jose.JSONWebKeySet{}, 0, fmt.Errorf("discovery names issuer %q, not %q", doc.Issuer, ti.Issuer)
		}
		if !strings.HasPrefix(doc.JWKSURI, "https://") && !(c.allowInsecure && strings.HasPrefix(doc.JWKSURI, "http://")) {
			return jose.JSONWebKeySet{}, 0, errors.New("discovery names no https jwks_uri")
		}
		uri = doc.JWKSURI
	}
	body, ttl, err := c.get(ctx, uri)
	if err != nil {
		return jose.JSONWebKeySet{}, 0, fmt.Errorf("jwks: %w", err)
	}
	set, err := parseJWKS(string(body))
	return set, ttl, err
}

// get fetches uri and returns its body and how long it may be cached.
func (c *issuerKeyCache) get(ctx context.Context, uri string) ([]byte, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("%s: status %d", uri, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	if err != nil {
		return nil, 0, err
	}
	return body, issuerKeysLifetime(resp.Header), nil
}

// issuerKeysLifetime reads how long a key set may be cached (RFC 9111
// Cache-Control max-age; no-store and no-cache mean as short as allowed),
// within [issuerKeysMin, issuerKeysMax]; issuerKeysDefault without either.
func issuerKeysLifetime(h http.Header) time.Duration {
	d, noStore := cacheControl(h, issuerKeysDefault)
	if noStore {
		return issuerKeysMin
	}
	if d < 0 {
		d = issuerKeysDefault
	}
	return min(max(d, issuerKeysMin), issuerKeysMax)
}
