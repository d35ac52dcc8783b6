package scim

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"portico/store"
)

// Prefix is where the service provider is mounted; an organization's base
// URL is Prefix + its slug.
const Prefix = "/scim/v2/"

// Failed authentication from one address against one organization: after
// maxFailures within failureWindow the pair is locked for lockFor.
const (
	maxFailures   = 10
	failureWindow = 10 * time.Minute
	lockFor       = 15 * time.Minute
)

// tokenKeySetting names the server key under which token hashes are keyed,
// so a copy of the database alone does not let anyone test guesses.
const tokenKeySetting = "scim_token_key"

// Server serves every organization's SCIM tenant.
type Server struct {
	Store   *store.Store
	Issuer  string // the portal's public base URL, for meta.location
	Now     func() time.Time
	Log     *slog.Logger
	tokenMK []byte
}

// New builds the server, creating the token key on first run.
func New(ctx context.Context, st *store.Store, issuer string, now func() time.Time, log *slog.Logger) (*Server, error) {
	key, err := st.EnsureSetting(ctx, tokenKeySetting, func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("scim: token key: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Server{Store: st, Issuer: strings.TrimRight(issuer, "/"), Now: now, Log: log, tokenMK: key}, nil
}

// BaseURL is the organization's SCIM base URL, as a directory is told.
func (s *Server) BaseURL(slug string) string { return s.Issuer + Prefix + slug }

func (s *Server) hash(token string) string {
	m := hmac.New(sha256.New, s.tokenMK)
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// IssueToken makes a new bearer token for orgID, replacing any earlier one
// (rotation: the old one stops working at once). The token is returned this
// once; only its keyed hash is kept.
func (s *Server) IssueToken(ctx context.Context, actor store.Actor, orgID string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := "scim_" + base64.RawURLEncoding.EncodeToString(b)
	t := store.SCIMToken{OrgID: orgID, Hash: s.hash(token), Hint: token[:9] + "…", CreatedAt: s.Now(), CreatedBy: actor.Label}
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		_, prev := tx.SCIMTokenOf(ctx, orgID)
		if err := tx.PutSCIMToken(ctx, t); err != nil {
			return err
		}
		action := "scim.token_create"
		if prev == nil { // there was one
			action = "scim.token_rotate"
		}
		return tx.Audit(ctx, actor.Event(orgID, action, "organization", orgID), nil, map[string]string{"hint": t.Hint})
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// RevokeToken deletes orgID's token: the directory can no longer push.
func (s *Server) RevokeToken(ctx context.Context, actor store.Actor, orgID string) error {
	return s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.DeleteSCIMToken(ctx, orgID); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.Event(orgID, "scim.token_revoke", "organization", orgID), nil, nil)
	})
}

type clientAddrKey struct{}

// WithClientAddr tells the server the client's address as the trusted
// proxies report it, for the throttle of failed authentication.
func WithClientAddr(ctx context.Context, a netip.Addr) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, a)
}

func clientAddr(r *http.Request) string {
	if a, ok := r.Context().Value(clientAddrKey{}).(netip.Addr); ok && a.IsValid() {
		return a.String()
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().String()
	}
	return "unknown"
}

// tenant is one authenticated request's organization.
type tenant struct {
	org   store.Organization
	actor store.Actor
}

// authenticate finds the organization of the URL and checks the bearer
// token against its keyed hash in constant time. An unknown organization
// answers as a wrong token does.
func (s *Server) authenticate(r *http.Request, slug string) (tenant, *Error) {
	ctx := r.Context()
	now := s.Now()
	unauthorized := &Error{Status: http.StatusUnauthorized, Detail: "Authorization failure: the bearer token is missing or not valid for this organization."}
	org, err := s.Store.OrganizationBySlug(ctx, slug)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return tenant{}, internal(err)
	}
	key := "scim:" + slug + "|" + clientAddr(r)
	th, err := s.Store.ThrottleState(ctx, key)
	if err != nil {
		return tenant{}, internal(err)
	}
	if th.Locked(now) {
		return tenant{}, &Error{Status: http.StatusTooManyRequests, Detail: "Too many failed authentications; try again later.",
			retryAfter: th.LockedUntil.Sub(now)}
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		token, ok = strings.CutPrefix(r.Header.Get("Authorization"), "bearer ")
	}
	good := false
	if ok && org.ID != "" {
		if t, err := s.Store.SCIMTokenOf(ctx, org.ID); err == nil {
			good = subtle.ConstantTimeCompare([]byte(s.hash(strings.TrimSpace(token))), []byte(t.Hash)) == 1
		} else if !errors.Is(err, store.ErrNotFound) {
			return tenant{}, internal(err)
		}
	}
	if !good {
		t, err := s.Store.CountAttempt(ctx, key, now, now.Add(-failureWindow), now.Add(-24*time.Hour))
		if err != nil {
			return tenant{}, internal(err)
		}
		if t.Failures >= maxFailures {
			if _, err := s.Store.LockThrottle(ctx, key, now, now.Add(lockFor)); err != nil {
				return tenant{}, internal(err)
			}
		}
		s.Log.Warn("scim: authentication failed", "org", slug, "addr", clientAddr(r))
		return tenant{}, unauthorized
	}
	if th.Failures > 0 {
		_ = s.Store.ClearThrottle(ctx, key)
	}
	if reason := org.InactiveReason(now); reason != "" {
		return tenant{}, &Error{Status: http.StatusForbidden, Detail: "The organization is not active."}
	}
	_ = s.Store.TouchSCIMToken(ctx, org.ID, now)
	return tenant{org: org, actor: store.Actor{Label: "scim"}}, nil
}

// ServeHTTP routes /scim/v2/{org}/{resource}[/{id}].
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		writeError(w, &Error{Status: http.StatusNotFound, Detail: "Not found."})
		return
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if parts[0] == "" || len(parts) > 3 {
		writeError(w, &Error{Status: http.StatusNotFound, Detail: "Not found."})
		return
	}
	t, e := s.authenticate(r, parts[0])
	if e != nil {
		writeError(w, e)
		return
	}
	resource, id := "", ""
	if len(parts) > 1 {
		resource = parts[1]
	}
	if len(parts) > 2 {
		id = parts[2]
	}
	var status int
	var body any
	var err *Error
	switch {
	case resource == "Users" && id == "" && r.Method == http.MethodGet:
		status, body, err = s.listUsers(r, t)
	case resource == "Users" && id == "" && r.Method == http.MethodPost:
		status, body, err = s.createUser(r, t)
	case resource == "Users" && id != "" && r.Method == http.MethodGet:
		status, body, err = s.getUser(r, t, id)
	case resource == "Users" && id != "" && r.Method == http.MethodPut:
		status, body, err = s.replaceUser(r, t, id)
	case resource == "Users" && id != "" && r.Method == http.MethodPatch:
		status, body, err = s.patchUser(r, t, id)
	case resource == "Users" && id != "" && r.Method == http.MethodDelete:
		status, body, err = s.deleteUser(r, t, id)
	case resource == "Groups" && id == "" && r.Method == http.MethodGet:
		status, body, err = s.listGroups(r, t)
	case resource == "Groups" && id == "" && r.Method == http.MethodPost:
		status, body, err = s.createGroup(r, t)
	case resource == "Groups" && id != "" && r.Method == http.MethodGet:
		status, body, err = s.getGroup(r, t, id)
	case resource == "Groups" && id != "" && r.Method == http.MethodPut:
		status, body, err = s.replaceGroup(r, t, id)
	case resource == "Groups" && id != "" && r.Method == http.MethodPatch:
		status, body, err = s.patchGroup(r, t, id)
	case resource == "Groups" && id != "" && r.Method == http.MethodDelete:
		status, body, err = s.deleteGroup(r, t, id)
	case resource == "ServiceProviderConfig" && id == "" && r.Method == http.MethodGet:
		status, body = http.StatusOK, s.serviceProviderConfig(t)
	case resource == "Schemas" && r.Method == http.MethodGet:
		status, body, err = s.schemas(t, id)
	case resource == "ResourceTypes" && r.Method == http.MethodGet:
		status, body, err = s.resourceTypes(t, id)
	case resource == "Users" || resource == "Groups" || resource == "ServiceProviderConfig" ||
		resource == "Schemas" || resource == "ResourceTypes":
		err = &Error{Status: http.StatusMethodNotAllowed, Detail: "Method not allowed."}
	default:
		err = &Error{Status: http.StatusNotFound, Detail: "Not found."}
	}
	if err != nil {
		if err.cause != nil {
			s.Log.Error("scim", "org", t.org.Slug, "path", r.URL.Path, "err", err.cause)
		}
		writeError(w, err)
		return
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	if m, ok := body.(map[string]any); ok && status == http.StatusCreated {
		if meta, ok := m["meta"].(map[string]any); ok {
			if loc, ok := meta["location"].(string); ok {
				w.Header().Set("Location", loc)
			}
		}
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(body)
}

// Error is a SCIM error response (RFC 7644 §3.12).
type Error struct {
	Status     int
	Type       string // scimType: invalidFilter, uniqueness, invalidValue…
	Detail     string
	cause      error
	retryAfter time.Duration
}

func internal(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Detail: "Internal error.", cause: err}
}

func badRequest(scimType, detail string) *Error {
	return &Error{Status: http.StatusBadRequest, Type: scimType, Detail: detail}
}

func notFound(what string) *Error {
	return &Error{Status: http.StatusNotFound, Detail: what + " not found."}
}

func writeError(w http.ResponseWriter, e *Error) {
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scim"`)
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int(e.retryAfter.Seconds())+1))
	}
	body := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
		"status":  fmt.Sprint(e.Status),
		"detail":  e.Detail,
	}
	if e.Type != "" {
		body["scimType"] = e.Type
	}
	writeJSON(w, e.Status, body)
}
