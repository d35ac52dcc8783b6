package authserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Throttle bounds failed client authentication at the token, introspection
// and revocation endpoints. Zero values take the defaults.
type Throttle struct {
	// Window is how long failures are counted together. Default 10m.
	Window time.Duration
	// ClientFailures within a window block the client, for requests from
	// addresses that failed too. Default 10.
	ClientFailures int
	// SourceFailures within a window block the source address, whatever
	// client it names. Default 20.
	SourceFailures int
	// Backoff is the first block; each further failure past the limit
	// doubles it, up to MaxBackoff. Defaults 30s and 15m.
	Backoff, MaxBackoff time.Duration
}

func (t *Throttle) defaults() {
	if t.Window <= 0 {
		t.Window = 10 * time.Minute
	}
	if t.ClientFailures <= 0 {
		t.ClientFailures = 10
	}
	if t.SourceFailures <= 0 {
		t.SourceFailures = 20
	}
	if t.Backoff <= 0 {
		t.Backoff = 30 * time.Second
	}
	if t.MaxBackoff <= 0 {
		t.MaxBackoff = 15 * time.Minute
	}
}

// backoff is the block after n failures, n >= limit.
func (t Throttle) backoff(n, limit int) time.Duration {
	d := float64(t.Backoff) * math.Pow(2, float64(min(n-limit, 20)))
	return min(time.Duration(d), t.MaxBackoff)
}

// throttleStore is what the throttle keeps in the database, so that every
// replica counts the same failures and honours the same blocks.
type throttleStore interface {
	RecordClientAuthFailure(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)
	BlockClientAuth(ctx context.Context, key string, until time.Time) error
	ClientAuthBlocks(ctx context.Context, now time.Time) (map[string]time.Time, error)
	ClientAuthFailures(ctx context.Context, key string, since time.Time) (int, error)
}

// authThrottle throttles failed client authentication per client and per
// source address. Failures are written to the database; the list of current
// blocks is held in memory and reloaded only when the database changed
// (the data version the client cache watches), so a successful request
// neither writes nor, while nothing changed, reads.
//
// A blocked client is not blocked for everyone: that would let anyone who
// knows a client_id (it is public) lock a partner's service out. Requests
// for it are refused only from addresses that have failed recently, so a
// guesser gets one try per fresh address while the service, from its own
// address, goes on.
type authThrottle struct {
	cfg   Throttle
	st    throttleStore
	fresh *freshness
	now   func() time.Time
	mu    sync.RWMutex
	ver   int64
	ok    bool // blocks loaded at ver
	until map[string]time.Time
}

func clientKey(id string) string { return "client:" + id }

// sourceKey is the address itself for IPv4, and its /64 for IPv6, where
// one host has a whole prefix to pick from.
func sourceKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "addr:" + p.String()
	}
	return "addr:" + a.String()
}

// blocks returns the current blocks, reloading them if the database moved.
func (t *authThrottle) blocks(ctx context.Context) (map[string]time.Time, error) {
	ver, err := t.fresh.current(ctx)
	if err != nil {
		return nil, err
	}
	t.mu.RLock()
	if t.ok && t.ver == ver {
		m := t.until
		t.mu.RUnlock()
		return m, nil
	}
	t.mu.RUnlock()
	m, err := t.st.ClientAuthBlocks(ctx, t.now())
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.until, t.ver, t.ok = m, ver, true
	t.mu.Unlock()
	return m, nil
}

// retryAfter says how long a request for clientID (may be empty) from src
// must wait; zero lets it through.
func (t *authThrottle) retryAfter(ctx context.Context, clientID string, src netip.Addr) (time.Duration, error) {
	m, err := t.blocks(ctx)
	if err != nil {
		return 0, err
	}
	now := t.now()
	if src.IsValid() {
		if u, ok := m[sourceKey(src)]; ok && u.After(now) {
			return u.Sub(now), nil
		}
	}
	if clientID == "" {
		return 0, nil
	}
	u, ok := m[clientKey(clientID)]
	if !ok || !u.After(now) {
		return 0, nil
	}
	if src.IsValid() {
		n, err := t.st.ClientAuthFailures(ctx, sourceKey(src), now.Add(-t.cfg.Window))
		if err != nil || n == 0 {
			return 0, err
		}
	}
	return u.Sub(now), nil
}

// failed records a failed authentication from src naming clientID (empty
// for none; known says whether that client exists, so made-up ids do not
// fill the table) and blocks what went over its limit; blocked says
// whether it placed (or lengthened) a block.
func (t *authThrottle) failed(ctx context.Context, clientID string, known bool, src netip.Addr) (blocked bool, err error) {
	now := t.now()
	record := func(key string, limit int) error {
		n, err := t.st.RecordClientAuthFailure(ctx, key, now, t.cfg.Window)
		if err != nil || n < limit {
			return err
		}
		if err := t.st.BlockClientAuth(ctx, key, now.Add(t.cfg.backoff(n, limit))); err != nil {
			return err
		}
		blocked = true
		return nil
	}
	if src.IsValid() {
		if err := record(sourceKey(src), t.cfg.SourceFailures); err != nil {
			return blocked, err
		}
	}
	if clientID != "" && known {
		err = record(clientKey(clientID), t.cfg.ClientFailures)
	}
	return blocked, err
}

// clientAddrKey carries the request's source address in its context.
type clientAddrKey struct{}

// WithClientAddr returns ctx carrying the client's network address, as the
// portal determined it (behind trusted proxies, from X-Forwarded-For). The
// throttle of failed client authentication counts per address; without
// this the server uses the connection's peer address.
func WithClientAddr(ctx context.Context, a netip.Addr) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, a)
}

// clientAddr is the request's source address: what the portal put in the
// context, else the peer.
func clientAddr(r *http.Request) netip.Addr {
	if a, ok := r.Context().Value(clientAddrKey{}).(netip.Addr); ok && a.IsValid() {
		return a.Unmap()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

// basicCreds is a request's Basic credentials as r.BasicAuth returns them
// (still form-encoded), decoded once per request.
type basicCreds struct {
	user, password string
	ok             bool
}

func basicCredentials(r *http.Request) basicCreds {
	u, p, ok := r.BasicAuth()
	return basicCreds{u, p, ok}
}

// claimedClientID is the client_id a token-endpoint request claims, before
// any check: from Basic (form-encoded, RFC 6749 §2.3.1), the form, or a
// client assertion's iss.
func claimedClientID(r *http.Request, basic basicCreds) string {
	return claimedFrom(basic, r.PostFormValue("client_id"), r.PostFormValue("client_assertion"))
}

// claimedFrom is claimedClientID from the first client_id and
// client_assertion of the form.
func claimedFrom(basic basicCreds, clientID, assertion string) string {
	if basic.ok {
		if id, err := url.QueryUnescape(basic.user); err == nil {
			return id
		}
		return basic.user
	}
	if clientID != "" {
		return clientID
	}
	return assertionIssuer(assertion)
}

// assertionIssuer is the unverified iss of a client assertion, "" if none.
func assertionIssuer(a string) string {
	parts := strings.Split(a, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Iss
}

// countFailure records a failed client authentication for the throttle;
// the client named may not exist.
func (s *Server) countFailure(ctx context.Context, cc *op.ClientCredentials) {
	id := cc.ClientID
	if id == "" {
		id = assertionIssuer(cc.ClientAssertion)
	}
	known := false
	if id != "" {
		_, err := s.client(ctx, id)
		known = err == nil
	}
	src, _ := ctx.Value(clientAddrKey{}).(netip.Addr)
	blocked, err := s.throttle.failed(ctx, id, known, src)
	if err != nil {
		s.log.ErrorContext(ctx, "recording a failed client authentication", "err", err)
	}
	if blocked {
		s.clientAuthLockout()
	}
}

// isInvalidClient reports whether err is an invalid_client refusal.
func isInvalidClient(err error) bool {
	var e *oidc.Error
	return errors.As(err, &e) && e.ErrorType == oidc.InvalidClient
}

// throttled answers a request the throttle holds back: 429 with Retry-After
// (RFC 6585 §4), in the shape of an RFC 6749 error.
func throttled(w http.ResponseWriter, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	writeOAuthError(w, http.StatusTooManyRequests, "invalid_client",
		"too many failed client authentications; retry after "+strconv.Itoa(max(secs, 1))+" seconds")
}
