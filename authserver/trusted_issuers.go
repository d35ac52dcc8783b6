package authserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"portico/store"
)

// issuerStore is what trusted token issuers need from the database;
// *store.Store satisfies it. It is kept apart from Store so the grants that
// use it stay optional for other Store implementations: without it no
// external token is ever accepted.
type issuerStore interface {
	CreateTrustedIssuer(ctx context.Context, ti *store.TrustedIssuer) error
	TrustedIssuer(ctx context.Context, orgID, id string) (store.TrustedIssuer, error)
	TrustedIssuerByURL(ctx context.Context, orgID, issuer string) (store.TrustedIssuer, error)
	TrustedIssuerRegisteredElsewhere(ctx context.Context, orgID, issuer string) (bool, error)
	TrustedIssuers(ctx context.Context, orgID string) ([]store.TrustedIssuer, error)
	DeleteTrustedIssuer(ctx context.Context, orgID, id string) error
	TrustedIssuerExists(ctx context.Context, orgID, id string) (bool, error)
	UseIssuerJTI(ctx context.Context, issuerID, jti string, expires time.Time) (bool, error)
	PurgeIssuerJTIs(ctx context.Context, now time.Time) (int64, error)
	BindClientIssuer(ctx context.Context, orgID, clientID, issuerID string) error
	ClientIssuerBinding(ctx context.Context, clientID string) (string, error)
	InsertDecisions(ctx context.Context, ds []store.Decision) (int, error)
}

var _ issuerStore = (*store.Store)(nil)

// errNoIssuerStore: the Store given to New cannot hold trusted issuers.
var errNoIssuerStore = errors.New("authserver: the store does not support trusted issuers")

// JWS algorithms a trusted issuer may use. Symmetric algorithms and none
// are never accepted: a shared secret would let anyone holding it (every
// relying party of the partner) mint tokens.
var (
	issuerAlgorithms        = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
	defaultIssuerAlgorithms = []string{"RS256", "ES256", "PS256", "EdDSA"}
)

// maxIssuerMaxAge bounds a trusted issuer's maximum token age.
const maxIssuerMaxAge = 24 * time.Hour

// IssuerInput is a trusted token issuer as an organization admin describes it.
type IssuerInput struct {
	Issuer          string            `json:"issuer"`
	JWKSURI         string            `json:"jwks_uri"`
	Audiences       []string          `json:"audiences"`
	SubjectClaim    string            `json:"subject_claim"`
	GroupsClaim     string            `json:"groups_claim"`
	AttributeClaims map[string]string `json:"attribute_claims"`
	MaxAge          time.Duration     `json:"max_age"`
	Algorithms      []string          `json:"algorithms"`
}

// Issuers manages an organization's trusted token issuers. Every method
// takes the organization: another organization's issuer is
// store.ErrNotFound. Callers check that the person is an admin of that
// organization or a platform admin.
type Issuers struct {
	s  *Server
	st issuerStore
}

// Issuers returns the trusted-issuer operations bound to this server.
func (s *Server) Issuers() *Issuers { return &Issuers{s: s, st: s.ist} }

func (r *Issuers) ready() error {
	if r.st == nil {
		return errNoIssuerStore
	}
	return nil
}

// Create validates in and registers it for orgID; invalid input is a
// *ValidationError naming every bad field, and nothing is stored.
func (r *Issuers) Create(ctx context.Context, orgID string, actor Actor, in IssuerInput) (store.TrustedIssuer, error) {
	if err := r.ready(); err != nil {
		return store.TrustedIssuer{}, err
	}
	ti, err := r.validate(in)
	if err != nil {
		return ti, err
	}
	ti.OrgID = orgID
	err = r.s.st.InTx(ctx, func(tx *store.Store) error {
		if _, err := tx.Organization(ctx, orgID); err != nil {
			return err
		}
		if err := tx.CreateTrustedIssuer(ctx, &ti); err != nil {
			if errors.Is(err, store.ErrAlreadyExists) {
				return &ValidationError{Fields: []FieldError{{Field: "issuer", Message: "is already trusted by this organization"}}}
			}
			return err
		}
		return tx.Audit(ctx, auditEvent(actor, orgID, "issuer.create", "trusted_issuer", ti.ID), nil, ti)
	})
	if err != nil {
		return store.TrustedIssuer{}, err
	}
	return ti, nil
}

// validate turns input into a trusted issuer or a *ValidationError.
func (r *Issuers) validate(in IssuerInput) (store.TrustedIssuer, error) {
	var fe fieldErrors
	ti := store.TrustedIssuer{Issuer: strings.TrimSpace(in.Issuer), JWKSURI: strings.TrimSpace(in.JWKSURI),
		SubjectClaim: strings.TrimSpace(in.SubjectClaim), GroupsClaim: strings.TrimSpace(in.GroupsClaim),
		MaxAge: in.MaxAge, AttributeClaims: map[string]string{}}
	if msg := r.urlProblem(ti.Issuer, true); msg != "" {
		fe.add("issuer", "%s", msg)
	} else if strings.TrimSuffix(ti.Issuer, "/") == r.s.cfg.Issuer {
		// Portico's own tokens are exchanged under the subject-binding rules
		// of token_exchange.go; trusting them here would let an organization
		// accept any organization's ID tokens.
		fe.add("issuer", "is Portico itself, whose tokens are never accepted through a trusted issuer")
	}
	if ti.JWKSURI != "" {
		if msg := r.urlProblem(ti.JWKSURI, false); msg != "" {
			fe.add("jwks_uri", "%s", msg)
		}
	}
	for i, a := range in.Audiences {
		a = strings.TrimSpace(a)
		switch {
		case a == "":
			fe.add(fmt.Sprintf("audiences[%d]", i), "must not be empty")
		case len(a) > 500:
			fe.add(fmt.Sprintf("audiences[%d]", i), "must be at most 500 characters")
		case !slices.Contains(ti.Audiences, a):
			ti.Audiences = append(ti.Audiences, a)
		}
	}
	if ti.SubjectClaim == "" {
		ti.SubjectClaim = "sub"
	}
	for _, c := range []struct{ field, v string }{{"subject_claim", ti.SubjectClaim}, {"groups_claim", ti.GroupsClaim}} {
		if len(c.v) > 100 || strings.ContainsAny(c.v, " \t\r\n") {
			fe.add(c.field, "must be a claim name without spaces, at most 100 characters")
		}
	}
	for name, claim := range in.AttributeClaims {
		name, claim = strings.TrimSpace(name), strings.TrimSpace(claim)
		if name == "" || claim == "" || len(name) > 100 || len(claim) > 100 || strings.ContainsAny(name+claim, " \t\r\n") {
			fe.add("attribute_claims", "each attribute needs a name and a claim name, without spaces")
			break
		}
		ti.AttributeClaims[name] = claim
	}
	switch {
	case ti.MaxAge < 0:
		fe.add("max_age", "must not be negative")
	case ti.MaxAge > maxIssuerMaxAge:
		fe.add("max_age", "must be at most %s", maxIssuerMaxAge)
	}
	ti.MaxAge = ti.MaxAge.Truncate(time.Second)
	for i, a := range in.Algorithms {
		a = strings.TrimSpace(a)
		switch {
		case strings.EqualFold(a, "none") || strings.HasPrefix(strings.ToUpper(a), "HS"):
			fe.add(fmt.Sprintf("algorithms[%d]", i), "%q is never accepted: only asymmetric signatures (%s)", a, strings.Join(issuerAlgorithms, ", "))
		case !slices.Contains(issuerAlgorithms, a):
			fe.add(fmt.Sprintf("algorithms[%d]", i), "%q is not one of %s", a, strings.Join(issuerAlgorithms, ", "))
		case !slices.Contains(ti.Algorithms, a):
			ti.Algorithms = append(ti.Algorithms, a)
		}
	}
	if len(in.Algorithms) == 0 {
		ti.Algorithms = slices.Clone(defaultIssuerAlgorithms)
	}
	return ti, fe.err()
}

// urlProblem describes what is wrong with an issuer or JWKS URL: https
// (http only when the server allows insecure issuers), a host, no
// fragment, and for an issuer no query either.
func (r *Issuers) urlProblem(raw string, issuer bool) string {
	if raw == "" {
		return "is required"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || (issuer && u.RawQuery != "") {
		return "must be an absolute URL without credentials or fragment" + map[bool]string{true: " or query", false: ""}[issuer]
	}
	if u.Scheme != "https" && !(r.s.cfg.AllowInsecure && u.Scheme == "http") {
		return "must be an https URL"
	}
	if len(raw) > 500 {
		return "must be at most 500 characters"
	}
	return ""
}

// List returns orgID's trusted issuers.
func (r *Issuers) List(ctx context.Context, orgID string) ([]store.TrustedIssuer, error) {
	if err := r.ready(); err != nil {
		return nil, err
	}
	return r.st.TrustedIssuers(ctx, orgID)
}

// Get returns orgID's trusted issuer id.
func (r *Issuers) Get(ctx context.Context, orgID, id string) (store.TrustedIssuer, error) {
	if err := r.ready(); err != nil {
		return store.TrustedIssuer{}, err
	}
	return r.st.TrustedIssuer(ctx, orgID, id)
}

// Delete removes orgID's trusted issuer id: the next exchange or assertion
// from it fails, and tokens Portico issued on its word introspect inactive.
func (r *Issuers) Delete(ctx context.Context, orgID, id string, actor Actor) error {
	if err := r.ready(); err != nil {
		return err
	}
	err := r.s.st.InTx(ctx, func(tx *store.Store) error {
		ti, err := tx.TrustedIssuer(ctx, orgID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteTrustedIssuer(ctx, orgID, id); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEvent(actor, orgID, "issuer.delete", "trusted_issuer", id), ti, nil)
	})
	if err == nil {
		r.s.issuerKeys.forget(id)
	}
	return err
}

// Bind binds orgID's client clientID to its trusted issuer issuerID: the
// client's JWT bearer assertions must come from that issuer, and a client
// without a secret (token_endpoint_auth_method none) can use the grant only
// once bound.
func (r *Issuers) Bind(ctx context.Context, orgID, clientID, issuerID string, actor Actor) error {
	if err := r.ready(); err != nil {
		return err
	}
	return r.s.st.InTx(ctx, func(tx *store.Store) error {
		if err := tx.BindClientIssuer(ctx, orgID, clientID, issuerID); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEvent(actor, orgID, "client.bind_issuer", "client", clientID), nil,
			map[string]string{"client_id": clientID, "trusted_issuer_id": issuerID})
	})
}

// Preview is what Portico would issue for a pasted token, or why it would
// refuse it (Refused non-empty). Nothing is issued or recorded, and an
// assertion's jti is not used up.
type Preview struct {
	Refused    string            `json:"refused,omitempty"`
	IssuerID   string            `json:"issuer_id,omitempty"`
	Issuer     string            `json:"issuer,omitempty"`
	Subject    string            `json:"sub,omitempty"`
	Org        string            `json:"org,omitempty"`
	Groups     []string          `json:"groups,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Features   []string          `json:"features,omitempty"`
	Expiry     time.Time         `json:"exp,omitzero"`
}

// Test verifies token as the token endpoint would for a client of orgID
// and reports what Portico's token would carry. Policies are not asked:
// they depend on the client and the request.
func (r *Issuers) Test(ctx context.Context, orgID, token string) (Preview, error) {
	if err := r.ready(); err != nil {
		return Preview{}, err
	}
	org, plan, err := orgAndPlan(ctx, r.s.st, orgID)
	if err != nil {
		return Preview{}, err
	}
	if reason := standing(r.s.now(), org, nil, nil); reason != "" {
		return Preview{Refused: reason}, nil
	}
	ext, err := r.s.verifyExternal(ctx, orgID, strings.TrimSpace(token), false)
	var ref *refusal
	if errors.As(err, &ref) {
		return Preview{Refused: ref.reason, Issuer: ref.issuer}, nil
	}
	if err != nil {
		return Preview{}, err
	}
	e := &clientEntry{org: org, plan: plan}
	exp := unix(ext.Expiry)
	if lim := r.s.now().Add(r.s.cfg.Lifetimes.AccessToken); lim.Before(exp) {
		exp = lim
	}
	return Preview{IssuerID: ext.issuer.ID, Issuer: ext.issuer.Issuer, Subject: ext.Subject, Org: org.Slug,
		Groups: ext.Groups, Attributes: ext.Attributes, Features: e.features(), Expiry: exp}, nil
}

// IssuersConfig is what NewIssuers needs: the database, Portico's issuer
// URL (the default audience of partners' tokens), and how keys are fetched
// (as in Config).
type IssuersConfig struct {
	Issuer        string
	Store         Store
	AllowInsecure bool
	UpstreamAllow []netip.Prefix
	Now           func() time.Time
}

// NewIssuers returns the trusted-issuer operations without a running
// server, for the CLI: the same validation, auditing and verification.
func NewIssuers(cfg IssuersConfig) (*Issuers, error) {
	iss, err := url.Parse(strings.TrimSuffix(cfg.Issuer, "/"))
	if err != nil || iss.Host == "" {
		return nil, fmt.Errorf("authserver: issuer %q is not an absolute URL", cfg.Issuer)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: Config{Issuer: strings.TrimSuffix(cfg.Issuer, "/"), Store: cfg.Store, AllowInsecure: cfg.AllowInsecure,
		UpstreamAllow: cfg.UpstreamAllow, Now: cfg.Now}, issuer: iss, prefix: strings.TrimSuffix(iss.Path, "/"),
		now: cfg.Now, log: slog.Default(), st: cfg.Store}
	s.cfg.Lifetimes.defaults()
	s.endpoint.token = s.prefix + "/token"
	s.ist, _ = cfg.Store.(issuerStore)
	s.issuerKeys = &issuerKeyCache{client: newJWKSClient(cfg.UpstreamAllow, cfg.AllowInsecure), now: cfg.Now,
		allowInsecure: cfg.AllowInsecure, m: map[string]*issuerKeys{}}
	return s.Issuers(), nil
}
