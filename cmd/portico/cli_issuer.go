package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"portico/authserver"
	"portico/netguard"
	"portico/store"
)

func runIssuer(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "issuer", args, map[string]func(context.Context, *cli, []string) error{
		"create": runIssuerCreate,
		"list":   runIssuerList,
		"show":   runIssuerShow,
		"delete": runIssuerDelete,
		"test":   runIssuerTest,
	})
}

// issuerFlags are the flags every issuer command shares.
type issuerFlags struct {
	db, org, portalURL, upstreamAllow *string
	asJSON                            *bool
}

func (c *cli) issuerFlags(fs *flag.FlagSet) issuerFlags {
	portal := c.getenv("PORTICO_ISSUER")
	if portal == "" {
		portal = "http://localhost:8080"
	}
	return issuerFlags{
		db:            c.dbFlag(fs),
		org:           fs.String("org", "", "organization slug (required)"),
		portalURL:     fs.String("portal-url", portal, "Portico's issuer URL, the default audience of partners' tokens (env PORTICO_ISSUER)"),
		upstreamAllow: fs.String("upstream-allow", c.getenv("PORTICO_UPSTREAM_ALLOW"), "non-public CIDRs key fetches may reach (env PORTICO_UPSTREAM_ALLOW)"),
		asJSON:        fs.Bool("json", false, "print JSON"),
	}
}

// issuerEnv is an open database with the trusted-issuer operations the
// portal's page uses, and the organization --org names.
type issuerEnv struct {
	st  *store.Store
	iss *authserver.Issuers
	org store.Organization
}

func (c *cli) openIssuers(ctx context.Context, f issuerFlags) (*issuerEnv, error) {
	if *f.org == "" {
		return nil, errors.New("--org is required")
	}
	allow, err := netguard.ParseAllow(*f.upstreamAllow)
	if err != nil {
		return nil, fmt.Errorf("--upstream-allow: %w", err)
	}
	st, err := c.openStore(ctx, *f.db)
	if err != nil {
		return nil, err
	}
	org, err := st.OrganizationBySlug(ctx, *f.org)
	if err != nil {
		st.Close()
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("no organization %q", *f.org)
		}
		return nil, err
	}
	iss, err := authserver.NewIssuers(authserver.IssuersConfig{Issuer: *f.portalURL, Store: st, Now: c.now,
		AllowInsecure: strings.HasPrefix(*f.portalURL, "http://"), UpstreamAllow: allow})
	if err != nil {
		st.Close()
		return nil, err
	}
	return &issuerEnv{st: st, iss: iss, org: org}, nil
}

// issuerJSON is a trusted issuer as the CLI prints it.
type issuerJSON struct {
	store.TrustedIssuer
	Org    string `json:"org"`
	MaxAge string `json:"max_age"`
}

func issuerOut(org string, ti store.TrustedIssuer) issuerJSON {
	j := issuerJSON{TrustedIssuer: ti, Org: org, MaxAge: "0s"}
	if ti.MaxAge > 0 {
		j.MaxAge = ti.MaxAge.String()
	}
	return j
}

func (j issuerJSON) human() string {
	var b strings.Builder
	fmt.Fprintf(&b, "id=%s issuer=%s org=%s", j.ID, j.Issuer, j.Org)
	if j.JWKSURI != "" {
		fmt.Fprintf(&b, " jwks_uri=%s", j.JWKSURI)
	} else {
		b.WriteString(" keys=discovery")
	}
	fmt.Fprintf(&b, "\n  audiences=%q algorithms=%s max_age=%s subject_claim=%s", strings.Join(j.Audiences, " "),
		strings.Join(j.Algorithms, ","), j.MaxAge, j.SubjectClaim)
	if j.GroupsClaim != "" {
		fmt.Fprintf(&b, " groups_claim=%s", j.GroupsClaim)
	}
	names := make([]string, 0, len(j.AttributeClaims))
	for n := range j.AttributeClaims {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, " attribute %s=%s", n, j.AttributeClaims[n])
	}
	return b.String()
}

func runIssuerCreate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("issuer create")
	f := c.issuerFlags(fs)
	var in authserver.IssuerInput
	var auds, algs, attrs multiFlag
	fs.StringVar(&in.Issuer, "issuer", "", "the partner's issuer URL, exactly as its tokens' iss (required)")
	fs.StringVar(&in.JWKSURI, "jwks-uri", "", "its JWK Set URL (default: from its OpenID discovery document)")
	fs.Var(&auds, "audience", "an aud its tokens may name (repeatable; default: Portico's issuer URL and token endpoint)")
	fs.StringVar(&in.SubjectClaim, "subject-claim", "sub", "the claim that becomes the subject")
	fs.StringVar(&in.GroupsClaim, "groups-claim", "", "the claim carrying groups")
	fs.Var(&attrs, "attribute", "NAME=CLAIM: an attribute taken from a claim (repeatable)")
	fs.DurationVar(&in.MaxAge, "max-age", 0, "refuse tokens issued longer ago than this (iat), e.g. 10m; 0: only exp counts")
	fs.Var(&algs, "alg", "an accepted algorithm (repeatable; default RS256, ES256, PS256, EdDSA; never none or HS*)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	in.Audiences, in.Algorithms = auds, algs
	if len(attrs) > 0 {
		in.AttributeClaims = map[string]string{}
		for _, a := range attrs {
			name, claim, ok := strings.Cut(a, "=")
			if !ok {
				return fmt.Errorf("--attribute %q: want NAME=CLAIM", a)
			}
			in.AttributeClaims[name] = claim
		}
	}
	env, err := c.openIssuers(ctx, f)
	if err != nil {
		return err
	}
	defer env.st.Close()
	ti, err := env.iss.Create(ctx, env.org.ID, cliOAuthActor, in)
	if err != nil {
		return err
	}
	j := issuerOut(env.org.Slug, ti)
	return c.output(*f.asJSON, j, j.human())
}

func runIssuerList(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("issuer list")
	f := c.issuerFlags(fs)
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openIssuers(ctx, f)
	if err != nil {
		return err
	}
	defer env.st.Close()
	list, err := env.iss.List(ctx, env.org.ID)
	if err != nil {
		return err
	}
	out := make([]issuerJSON, 0, len(list))
	var lines []string
	for _, ti := range list {
		j := issuerOut(env.org.Slug, ti)
		out = append(out, j)
		lines = append(lines, j.human())
	}
	if len(lines) == 0 {
		lines = []string{"no trusted issuers"}
	}
	return c.output(*f.asJSON, out, strings.Join(lines, "\n"))
}

func runIssuerShow(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("issuer show")
	f := c.issuerFlags(fs)
	id := fs.String("id", "", "the trusted issuer's id (required)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openIssuers(ctx, f)
	if err != nil {
		return err
	}
	defer env.st.Close()
	ti, err := env.iss.Get(ctx, env.org.ID, *id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("organization %s has no trusted issuer %q", env.org.Slug, *id)
	}
	if err != nil {
		return err
	}
	j := issuerOut(env.org.Slug, ti)
	return c.output(*f.asJSON, j, j.human())
}

func runIssuerDelete(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("issuer delete")
	f := c.issuerFlags(fs)
	id := fs.String("id", "", "the trusted issuer's id (required)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openIssuers(ctx, f)
	if err != nil {
		return err
	}
	defer env.st.Close()
	if err := env.iss.Delete(ctx, env.org.ID, *id, cliOAuthActor); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("organization %s has no trusted issuer %q", env.org.Slug, *id)
	} else if err != nil {
		return err
	}
	return c.output(*f.asJSON, map[string]string{"deleted": *id}, "deleted "+*id)
}

// runIssuerTest shows what Portico would issue for a pasted token, without
// issuing anything: --token, or the token on standard input.
func runIssuerTest(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("issuer test")
	f := c.issuerFlags(fs)
	token := fs.String("token", "", "the partner's token (default: read from standard input)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *token == "" {
		b, err := io.ReadAll(io.LimitReader(os.Stdin, 64<<10))
		if err != nil {
			return err
		}
		*token = strings.TrimSpace(string(b))
	}
	if *token == "" {
		return errors.New("give the token with --token or on standard input")
	}
	env, err := c.openIssuers(ctx, f)
	if err != nil {
		return err
	}
	defer env.st.Close()
	p, err := env.iss.Test(ctx, env.org.ID, *token)
	if err != nil {
		return err
	}
	return c.output(*f.asJSON, p, previewHuman(p))
}

func previewHuman(p authserver.Preview) string {
	if p.Refused != "" {
		return "refused: " + p.Refused
	}
	var b strings.Builder
	fmt.Fprintf(&b, "would issue: sub=%s ext_iss=%s org=%s", p.Subject, p.Issuer, p.Org)
	if len(p.Groups) > 0 {
		fmt.Fprintf(&b, " groups=%s", strings.Join(p.Groups, ","))
	}
	if len(p.Features) > 0 {
		fmt.Fprintf(&b, " features=%s", strings.Join(p.Features, ","))
	}
	if !p.Expiry.IsZero() {
		fmt.Fprintf(&b, " expires=%s", p.Expiry.Format(time.RFC3339))
	}
	return b.String()
}
