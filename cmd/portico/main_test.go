package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// testCLI runs commands in-process with the given environment.
type testCLI struct {
	t   *testing.T
	env map[string]string
}

func newTestCLI(t *testing.T) *testCLI {
	db := storetest.DSN(t)
	env := map[string]string{"PORTICO_DB": db}
	if store.IsPostgres(db) {
		env["PORTICO_SECRET_KEY"] = testSecretKey
	}
	return &testCLI{t: t, env: env}
}

// testSecretKey is the secret key of test portals on PostgreSQL, which has
// no key file beside the database.
const testSecretKey = "cG9ydGljby10ZXN0LXNlY3JldC1rZXktMzItYnl0ZXM="

// dbArgs returns the --db (and on PostgreSQL --secret-key) flags for a test
// portal: a fresh database on the test engine (storetest), unless args name
// one, and the test key when that database is PostgreSQL.
func dbArgs(t *testing.T, args []string) []string {
	db := ""
	for i, a := range args {
		if a == "--db" && i+1 < len(args) {
			db = args[i+1]
		}
	}
	var out []string
	if db == "" {
		db = storetest.DSN(t)
		out = append(out, "--db", db)
	}
	if store.IsPostgres(db) {
		out = append(out, "--secret-key", testSecretKey)
	}
	return out
}

func (tc *testCLI) run(args ...string) (stdout string, err error) {
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb, getenv: func(k string) string { return tc.env[k] }, now: time.Now}
	err = run(context.Background(), c, args)
	return out.String(), err
}

// runErr runs a command that must succeed and returns stdout and stderr.
func (tc *testCLI) runErr(args ...string) (stdout, stderr string) {
	tc.t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb, getenv: func(k string) string { return tc.env[k] }, now: time.Now}
	if err := run(context.Background(), c, args); err != nil {
		tc.t.Fatalf("portico %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String()
}

func (tc *testCLI) mustRun(args ...string) string {
	tc.t.Helper()
	out, err := tc.run(args...)
	if err != nil {
		tc.t.Fatalf("portico %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func TestConfigReportsEveryProblemAtOnce(t *testing.T) {
	tc := newTestCLI(t)
	tc.env["PORTICO_ADDR"] = "nonsense"
	tc.env["PORTICO_ISSUER"] = "ftp://x"
	tc.env["PORTICO_TRUSTED_PROXIES"] = "10.0.0.0/8, banana"
	tc.env["PORTICO_SECRET_KEY"] = "short"
	_, err := tc.run("serve")
	if err == nil {
		t.Fatal("invalid configuration accepted")
	}
	for _, want := range []string{"PORTICO_ADDR", "PORTICO_ISSUER", `"banana"`, "PORTICO_SECRET_KEY"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c := &cli{getenv: func(string) string { return "" }, stderr: &bytes.Buffer{}}
	cfg, err := c.parseConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "localhost:8080" || cfg.DB != "portico.db" || cfg.Issuer != "http://localhost:8080" ||
		cfg.SecretKeyFile != "portico.db.key" {
		t.Fatalf("%+v", cfg)
	}
	if _, err := c.parseConfig([]string{"--issuer", "http://portal.example.com"}); err == nil {
		t.Fatal("a plain-http public issuer was accepted")
	}
	cfg, err = c.parseConfig([]string{"--trusted-proxies", "10.1.2.3, 192.168.0.0/16"})
	if err != nil || len(cfg.TrustedProxies) != 2 || cfg.TrustedProxies[0].Bits() != 32 {
		t.Fatalf("%v %+v", err, cfg.TrustedProxies)
	}
}

func TestSecretKeyFileIsCreatedOnceAndReused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db.key")
	k1, err := loadOrCreateKeyFile(path)
	if err != nil || len(k1) != 32 {
		t.Fatal(err)
	}
	k2, err := loadOrCreateKeyFile(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatal("second load returned another key")
	}
}

func TestOrgCommands(t *testing.T) {
	tc := newTestCLI(t)
	out := tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme", "--domain", "acme.example", "--valid-until", "2027-01-31", "--json")
	var o orgJSON
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if o.Slug != "acme" || o.Domains[0] != "acme.example" || o.ValidUntil == nil || o.Status != "active" {
		t.Fatalf("%+v", o)
	}
	if _, err := tc.run("org", "create", "--slug", "Bad Slug!", "--name", "", "--json"); err == nil ||
		!strings.Contains(err.Error(), "slug") || !strings.Contains(err.Error(), "name") {
		t.Fatalf("bad input: %v", err)
	}
	out = tc.mustRun("org", "update", "--slug", "acme", "--status", "suspended", "--json")
	if !strings.Contains(out, `"status": "suspended"`) {
		t.Fatal(out)
	}
	if _, err := tc.run("org", "update", "--slug", "nope", "--status", "active"); err == nil {
		t.Fatal("updating a missing organization succeeded")
	}
	out = tc.mustRun("org", "list", "--json")
	var list []orgJSON
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 {
		t.Fatalf("%v %s", err, out)
	}
}

func TestAdminResetPassword(t *testing.T) {
	tc := newTestCLI(t)
	st, err := (&cli{now: time.Now}).openStore(context.Background(), tc.env["PORTICO_DB"])
	if err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	if err := ensureFirstAdmin(context.Background(), st, &first, "http://localhost:8080"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if !strings.Contains(first.String(), firstAdmin) {
		t.Fatalf("first run printed:\n%s", first.String())
	}
	out := tc.mustRun("admin", "reset-password", "--json")
	var res map[string]string
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res["password"]) != 20 || res["email"] != firstAdmin {
		t.Fatalf("%v %s", err, out)
	}
	if _, err := tc.run("admin", "reset-password", "--email", "nobody@x.example"); err == nil {
		t.Fatal("reset of a missing account succeeded")
	}
}

func TestVersionAndUnknownCommand(t *testing.T) {
	tc := newTestCLI(t)
	if out := tc.mustRun("version"); !strings.HasPrefix(out, "portico ") {
		t.Fatal(out)
	}
	if _, err := tc.run("frobnicate"); err == nil {
		t.Fatal("unknown command accepted")
	}
}

// TestConfigUpstreamAllow: PORTICO_UPSTREAM_ALLOW (or --upstream-allow,
// which wins) gives the guarded dialer its allow list; a name or garbage
// is refused at start rather than ignored.
func TestConfigUpstreamAllow(t *testing.T) {
	env := map[string]string{"PORTICO_UPSTREAM_ALLOW": "127.0.0.1/32, 10.0.0.0/8"}
	c := &cli{getenv: func(k string) string { return env[k] }, stderr: &bytes.Buffer{}}
	cfg, err := c.parseConfig(nil)
	if err != nil || len(cfg.UpstreamAllow) != 2 || cfg.UpstreamAllow[1].String() != "10.0.0.0/8" {
		t.Fatalf("%v %v", err, cfg)
	}
	cfg, err = c.parseConfig([]string{"--upstream-allow", "::1"})
	if err != nil || len(cfg.UpstreamAllow) != 1 || cfg.UpstreamAllow[0].String() != "::1/128" {
		t.Fatalf("flag: %v %v", err, cfg)
	}
	if _, err := c.parseConfig([]string{"--upstream-allow", "idp.internal"}); err == nil || !strings.Contains(err.Error(), "PORTICO_UPSTREAM_ALLOW") {
		t.Fatalf("a name was accepted: %v", err)
	}
	env = nil
	if cfg, err = c.parseConfig(nil); err != nil || cfg.UpstreamAllow != nil {
		t.Fatalf("default: %v %v", err, cfg.UpstreamAllow)
	}
}

// TestConfigClientIDMetadata: metadata-document clients are allowed unless
// PORTICO_CLIENT_ID_METADATA=deny; anything else is refused at start.
func TestConfigClientIDMetadata(t *testing.T) {
	env := map[string]string{}
	c := &cli{getenv: func(k string) string { return env[k] }, stderr: &bytes.Buffer{}}
	if cfg, err := c.parseConfig(nil); err != nil || !cfg.ClientIDMetadata {
		t.Fatalf("default: %v %v", err, cfg)
	}
	env["PORTICO_CLIENT_ID_METADATA"] = "deny"
	if cfg, err := c.parseConfig(nil); err != nil || cfg.ClientIDMetadata {
		t.Fatalf("deny: %v %v", err, cfg)
	}
	env["PORTICO_CLIENT_ID_METADATA"] = "yes"
	if _, err := c.parseConfig(nil); err == nil || !strings.Contains(err.Error(), "PORTICO_CLIENT_ID_METADATA") {
		t.Fatalf("garbage accepted: %v", err)
	}
}
