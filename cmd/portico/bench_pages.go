package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"portico/federation/pool"
	"portico/partners"
	"portico/store"
)

// benchAdminEmail is the platform admin `portico bench pages` signs in as;
// its password is replaced with a random one on every run.
const benchAdminEmail = "bench-admin@portico-bench.example"

// pageTiming is one admin page's measurement.
type pageTiming struct {
	Name    string  `json:"name"`
	Path    string  `json:"path"`
	Rows    int     `json:"rows"` // table rows in the page
	Bytes   int     `json:"bytes"`
	P50MS   float64 `json:"p50_ms"`
	P90MS   float64 `json:"p90_ms"`
	MaxMS   float64 `json:"max_ms"`
	Ratio   float64 `json:"ratio_to_healthz"` // median over /healthz's median, same run
	Status  int     `json:"status"`
	Comment string  `json:"comment,omitempty"`
}

// runBenchPages serves the portal (serve's wiring) on loopback over the
// given database, signs in as a platform admin and times every admin list
// page, one request at a time, with /healthz of the same portal as the
// same-run reference.
func runBenchPages(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("bench pages")
	db := fs.String("db", c.getenv("PORTICO_DB"), "SQLite database to measure (see bench seed; env PORTICO_DB)")
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to serve the portal on")
	repeat := fs.Int("repeat", 15, "requests per page (sequential), after one warm-up request")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *db == "" {
		return errors.New("bench pages: --db is required")
	}
	if *repeat < 1 || *repeat > 10000 {
		return errors.New("bench pages: --repeat must be between 1 and 10000")
	}
	if err := requireLoopback(*addr); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()
	cfg := &Config{Addr: ln.Addr().String(), DB: *db, Issuer: base, rawLogLevel: "warn",
		rawSecretKey: c.getenv("PORTICO_SECRET_KEY")}
	if err := cfg.validate(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	setProcessLogger(log)
	quiet := *c
	quiet.stdout = c.stderr
	app, err := wire(ctx, &quiet, cfg, log)
	if err != nil {
		return err
	}
	defer app.close()
	password, err := benchAdmin(ctx, app.store, c.now)
	if err != nil {
		return fmt.Errorf("bench admin: %w", err)
	}
	srv := &http.Server{Handler: app.handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if err := benchSignIn(ctx, hc, base, password); err != nil {
		return err
	}
	pages, err := benchPageList(ctx, app.store)
	if err != nil {
		return err
	}
	get := func(path string) (int, string, time.Duration, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		t0 := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			return 0, "", 0, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b), time.Since(t0), err
	}
	measure := func(name, path string) (pageTiming, string, error) {
		t := pageTiming{Name: name, Path: path}
		status, body, _, err := get(path) // warm-up, and the body for links
		if err != nil {
			return t, "", err
		}
		t.Status, t.Bytes, t.Rows = status, len(body), strings.Count(body, "<tr")
		var ds []time.Duration
		for range *repeat {
			if _, _, d, err := get(path); err != nil {
				return t, "", err
			} else {
				ds = append(ds, d)
			}
		}
		slices.Sort(ds)
		ms := func(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 2) }
		t.P50MS, t.P90MS, t.MaxMS = ms(ds[len(ds)/2]), ms(ds[len(ds)*9/10]), ms(ds[len(ds)-1])
		return t, body, nil
	}
	ref, _, err := measure("reference: GET /healthz", "/healthz")
	if err != nil {
		return err
	}
	out := []pageTiming{ref}
	nextLink := regexp.MustCompile(`id="page-next" href="([^"]+)"`)
	for _, p := range pages {
		t, body, err := measure(p[0], p[1])
		if err != nil {
			return fmt.Errorf("%s: %w", p[1], err)
		}
		out = append(out, t)
		// The page after the first, through the page's own Next link.
		if m := nextLink.FindStringSubmatch(body); m != nil && !strings.Contains(p[1], "after=") && len(p) > 2 {
			t, _, err := measure(p[0]+", next page", html.UnescapeString(m[1]))
			if err != nil {
				return err
			}
			out = append(out, t)
		}
	}
	for i := range out {
		if ref.P50MS > 0 {
			out[i].Ratio = round(out[i].P50MS/ref.P50MS, 1)
		}
		if out[i].Status != http.StatusOK {
			out[i].Comment = fmt.Sprintf("status %d", out[i].Status)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| page | rows | KB | p50 ms | p90 ms | max ms | p50 / healthz p50 |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, t := range out {
		fmt.Fprintf(&b, "| %s `%s` | %d | %.1f | %.2f | %.2f | %.2f | %.1f |%s\n", t.Name, t.Path, t.Rows, float64(t.Bytes)/1024,
			t.P50MS, t.P90MS, t.MaxMS, t.Ratio, t.Comment)
	}
	return c.output(*asJSON, out, b.String())
}

// benchSignIn signs in through the login form as the bench admin, with the
// CSRF token the form carries, as a browser would.
func benchSignIn(ctx context.Context, hc *http.Client, base, password string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/login", nil)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	m := csrfField.FindSubmatch(body)
	if m == nil {
		return errors.New("bench pages: the login page has no CSRF field")
	}
	form := url.Values{"email": {benchAdminEmail}, "password": {password}, "_csrf": {html.UnescapeString(string(m[1]))}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err = hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("bench pages: signing in as %s: status %d", benchAdminEmail, resp.StatusCode)
	}
	return nil
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// benchAdmin makes sure the bench organization has a platform admin with a
// fresh random password, and returns the password.
func benchAdmin(ctx context.Context, st *store.Store, now func() time.Time) (string, error) {
	org, err := st.OrganizationBySlug(ctx, benchOrgSlug)
	if errors.Is(err, store.ErrNotFound) {
		slug, name := benchOrgSlug, "Portico bench"
		svc := &partners.Service{Store: st, Now: now}
		org, err = svc.CreateOrg(ctx, store.Actor{Label: "bench"}, partners.OrgInput{Slug: &slug, Name: &name})
	}
	if err != nil {
		return "", err
	}
	var raw [18]byte
	rand.Read(raw[:])
	password := hex.EncodeToString(raw[:])
	hash, err := pool.HashPassword(password)
	if err != nil {
		return "", err
	}
	u, err := st.UserByEmail(ctx, org.ID, benchAdminEmail)
	if errors.Is(err, store.ErrNotFound) {
		u = store.User{OrgID: org.ID, Email: benchAdminEmail, EmailVerified: true, Name: "Bench admin", Role: store.RoleAdmin,
			PlatformAdmin: true, PasswordHash: hash}
		return password, st.CreateUser(ctx, &u)
	}
	if err != nil {
		return "", err
	}
	_, _, err = st.UpdateUser(ctx, org.ID, u.ID, func(x *store.User) error {
		x.PasswordHash, x.PlatformAdmin, x.Role, x.Status, x.FailedLogins, x.LockedUntil = hash, true, store.RoleAdmin, "active", 0, time.Time{}
		return nil
	})
	return password, err
}

// benchPageList names the pages to time, with sample filters taken from
// the database itself (a third element asks to follow the Next link too).
func benchPageList(ctx context.Context, st *store.Store) ([][]string, error) {
	pages := [][]string{
		{"organizations", "/admin/orgs", "next"},
		{"organizations, search by name", "/admin/orgs?q=" + url.QueryEscape("quantum")},
		{"organizations, search by slug", "/admin/orgs?q=org-050000"},
		{"organizations, search by one letter", "/admin/orgs?q=s", "next"},
		{"decisions", "/decisions", "next"},
		{"decisions by action", "/decisions?action=deny", "next"},
		{"decisions from a day", "/decisions?from=" + time.Now().UTC().AddDate(0, 0, -2).Format(time.DateOnly) + "&until=" +
			time.Now().UTC().AddDate(0, 0, -2).Format(time.DateOnly)},
		{"audit log", "/audit", "next"},
		{"audit log, search by actor", "/audit?q=" + url.QueryEscape("ops@portico.example"), "next"},
		{"plans", "/admin/plans"},
		{"policies", "/admin/policies"},
		{"members (bench org)", "/org/members"},
		{"apps (bench org)", "/apps"},
		{"groups (bench org)", "/org/groups"},
		{"sign-in connections (bench org)", "/connections"},
		{"trusted issuers (bench org)", "/issuers"},
		{"APIs", "/apis"},
	}
	ds, err := st.Decisions(ctx, store.DecisionFilter{Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(ds) == 1 {
		d := ds[0]
		slugs, err := st.OrgSlugs(ctx, []string{d.OrgID})
		if err != nil {
			return nil, err
		}
		pages = append(pages,
			[]string{"decisions by user (email)", "/decisions?user=" + url.QueryEscape(d.Subject)},
			[]string{"decisions by client", "/decisions?client=" + url.QueryEscape(d.ClientID)},
			[]string{"decisions by organization", "/decisions?org=" + url.QueryEscape(slugs[d.OrgID]), "next"},
			[]string{"decisions by organization and action", "/decisions?org=" + url.QueryEscape(slugs[d.OrgID]) + "&action=deny"},
			[]string{"audit log of an organization", "/audit?org=" + url.QueryEscape(slugs[d.OrgID])},
			[]string{"an organization's page", "/admin/orgs/" + url.PathEscape(slugs[d.OrgID])},
		)
	}
	if p, err := st.PolicyByName(ctx, seedPolicyName); err == nil {
		pages = append(pages, []string{"a policy's page (usage, attach picker)", "/admin/policies/" + p.ID},
			[]string{"a policy's page, picker search", "/admin/policies/" + p.ID + "?app_q=quantum"})
	}
	return pages, nil
}
