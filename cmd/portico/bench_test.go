package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"portico/store/storetest"
)

// TestBenchTokens runs the load command in-process with a tiny request
// budget: the real portal issues every token, the report adds up, and the
// command stops by itself.
func TestBenchTokens(t *testing.T) {
	var out bytes.Buffer
	c := &cli{stdout: &out, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
	if err := run(context.Background(), c, []string{"bench", "tokens", "--clients", "4", "--requests", "40", "--json"}); err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	var rep benchReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	tok := rep.Tokens
	if !strings.HasPrefix(rep.Target, "http://127.0.0.1:") || tok.Requests != 40 || tok.Errors != 0 || tok.PerSecond <= 0 ||
		tok.P50ms <= 0 || tok.P50ms > tok.P90ms || tok.P90ms > tok.P99ms || tok.P99ms > tok.MaxMs {
		t.Fatalf("tokens phase: %+v (target %s)", tok, rep.Target)
	}
	if rep.Reference == nil || rep.Reference.Requests != 40 || rep.Reference.Errors != 0 || rep.Ratio <= 0 {
		t.Fatalf("reference phase: %+v, ratio %v", rep.Reference, rep.Ratio)
	}
}

// TestBenchTokensDPoP: --dpop adds a phase whose every token request
// carries a proof; the server accepts them all (a replayed or stale proof
// would be an error) and the report gives the ratio to bearer.
func TestBenchTokensDPoP(t *testing.T) {
	var out bytes.Buffer
	c := &cli{stdout: &out, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
	if err := run(context.Background(), c, []string{"bench", "tokens", "--clients", "4", "--requests", "40", "--dpop", "--reference=false", "--json"}); err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	var rep benchReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	d := rep.DPoP
	if d == nil || d.Requests != 40 || d.Errors != 0 || d.PerSecond <= 0 || d.SignedDuringPhase != 0 || rep.DPoPRatio <= 0 || rep.Reference != nil {
		t.Fatalf("dpop phase: %+v ratio %v (%s)", d, rep.DPoPRatio, out.String())
	}
	c = &cli{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
	if err := run(context.Background(), c, []string{"bench", "tokens", "--dpop", "--duration", "2m"}); err == nil {
		t.Fatal("--dpop with a phase longer than a proof lives was accepted")
	}
}

// TestBenchRefusesNonLoopback: the load generator never aims at another
// machine, and nonsense limits are refused before anything starts.
func TestBenchRefusesNonLoopback(t *testing.T) {
	for _, args := range [][]string{
		{"--addr", "0.0.0.0:0"},
		{"--addr", "[::]:0"},
		{"--addr", "10.0.0.1:8080"},
		{"--addr", "192.168.1.10:0"},
		{"--addr", "localhost:0"}, // a name could resolve anywhere
		{"--addr", "example.com:80"},
		{"--addr", "[fe80::1%lo]:0"},
		{"--clients", "0"},
		{"--duration", "0s"},
		{"--requests", "-1"},
	} {
		c := &cli{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
		err := run(context.Background(), c, append([]string{"bench", "tokens"}, args...))
		if err == nil {
			t.Errorf("bench tokens %v was accepted", args)
		}
	}
	for _, ok := range []string{"127.0.0.1:0", "127.3.4.5:0", "[::1]:0"} {
		if err := requireLoopback(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 200; i++ {
		d = append(d, time.Duration(i))
	}
	for p, want := range map[int]time.Duration{50: 100, 90: 180, 99: 198, 100: 200} {
		if got := percentile(d, p); got != want {
			t.Errorf("p%d = %d, want %d", p, got, want)
		}
	}
	if percentile(nil, 50) != 0 || percentile(d[:1], 99) != 1 {
		t.Error("edge cases")
	}
}

// TestBenchSeedAndPages seeds a small real database and times every admin
// page on it: every page answers 200 as the signed-in platform admin, the
// seeded rows are there, and the CLI lists page through them.
func TestBenchSeedAndPages(t *testing.T) {
	if storetest.Engine() == storetest.Postgres {
		t.Skip("bench seed fills a SQLite file (a PostgreSQL database is seeded by portico db copy); the SQLite pass runs this")
	}
	tc := newTestCLI(t)
	tc.mustRun("bench", "seed", "--orgs", "40", "--users", "200", "--clients", "30", "--decisions", "600")
	var pages []pageTiming
	if err := json.Unmarshal([]byte(tc.mustRun("bench", "pages", "--repeat", "1", "--json")), &pages); err != nil {
		t.Fatal(err)
	}
	if len(pages) < 15 {
		t.Fatalf("only %d pages timed", len(pages))
	}
	for _, p := range pages {
		if p.Status != 200 || p.P50MS <= 0 {
			t.Errorf("%s %s: status %d, %v ms", p.Name, p.Path, p.Status, p.P50MS)
		}
		if (p.Path == "/admin/orgs" || strings.HasPrefix(p.Path, "/admin/orgs?")) && !strings.Contains(p.Path, "q=") && p.Rows < 40 {
			t.Errorf("%s: %d rows, want a full page", p.Path, p.Rows)
		}
	}
	// The CLI list pages: two pages of 25 cover the 40 seeded organizations
	// and the bench's own, without overlap.
	var first, second []orgJSON
	out, errOut := tc.runErr("org", "list", "--limit", "25", "--json")
	json.Unmarshal([]byte(out), &first)
	i := strings.Index(errOut, "--after ")
	if len(first) != 25 || i < 0 {
		t.Fatalf("first page: %d orgs, stderr %q", len(first), errOut)
	}
	cursor := strings.Fields(errOut[i+len("--after "):])[0]
	json.Unmarshal([]byte(tc.mustRun("org", "list", "--limit", "25", "--after", cursor, "--json")), &second)
	if len(second) != 16 || second[0].Slug == first[24].Slug {
		t.Fatalf("second page: %d orgs", len(second))
	}
	if _, err := tc.run("org", "list", "--after", "garbage!"); err == nil {
		t.Fatal("a bad cursor was accepted")
	}
}

// TestBenchPathsShort runs `portico bench paths --short`: every path of
// issues 17 and 12 is measured against its reference and reported, with no
// failed request. It asserts that the bench measures, not how fast anything
// is (the machine running tests is not a quiet one). On the PostgreSQL pass
// it also sets up one and two portals on a throwaway database.
func TestBenchPathsShort(t *testing.T) {
	args := []string{"bench", "paths", "--short", "--json", "--out", t.TempDir() + "/paths.md"}
	if storetest.Engine() == storetest.Postgres {
		args = append(args, "--postgres", storetest.ServerURL(t))
	}
	var out bytes.Buffer
	c := &cli{stdout: &out, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
	if err := run(context.Background(), c, args); err != nil {
		t.Fatalf("bench paths: %v\n%s", err, out.String())
	}
	var rep pathsReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	want := []string{"dashboard, 20 apps", "authorize → code", "launch, IBM's policy", "refresh grant, no ID token",
		"introspection", "client credentials, SQLite"}
	if storetest.Engine() == storetest.Postgres {
		want = append(want, "client credentials, PostgreSQL, 1 portal", "client credentials, PostgreSQL, 2 portals",
			"refresh grant, PostgreSQL, 1 portal", "refresh grant, PostgreSQL, 2 portals")
	}
	got := map[string]pathRow{}
	for _, r := range rep.Rows {
		got[r.Path] = r
		if r.Errors != 0 || r.Rate <= 0 || r.P50ms <= 0 || r.P50ms > r.P99ms || len(r.Rates) != 1 {
			t.Errorf("%s: %+v", r.Path, r)
		}
		if r.Reference != "" && (r.RefRate <= 0 || r.Ratio <= 0) {
			t.Errorf("%s: reference %q measured nothing: %+v", r.Path, r.Reference, r)
		}
	}
	for _, w := range want {
		if _, ok := got[w]; !ok {
			t.Errorf("no row for %q", w)
		}
	}
	md, err := os.ReadFile(args[5])
	if err != nil || !strings.Contains(string(md), "| #17 | dashboard, 20 apps | 4 |") {
		t.Errorf("--out table: %v\n%s", err, md)
	}
}

// TestBenchSoakShort is the soak command's short form: a second of peak,
// three seconds steady at a tenth of it, sampled every second. No request
// may fail, every token writes a decision, and the samples carry memory,
// descriptors and the database's size.
func TestBenchSoakShort(t *testing.T) {
	var out, errs bytes.Buffer
	c := &cli{stdout: &out, stderr: &errs, getenv: func(string) string { return "" }, now: time.Now}
	if err := run(context.Background(), c, []string{"bench", "soak", "--clients", "4", "--peak", "1s", "--duration", "3s",
		"--interval", "1s", "--fraction", "0.1", "--json"}); err != nil {
		t.Fatalf("soak: %v\n%s\n%s", err, out.String(), errs.String())
	}
	var rep soakReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if rep.PeakPerSecond <= 0 || rep.RatePerSecond <= 0 || rep.Errors != 0 || len(rep.Samples) < 3 {
		t.Fatalf("report: %+v", rep)
	}
	last := rep.Samples[len(rep.Samples)-1]
	var served int
	for _, s := range rep.Samples {
		served += s.Requests
		if s.HeapMB <= 0 || s.DBMB <= 0 || (s.RSSMB <= 0 || s.FDs <= 0) && runtime.GOOS == "linux" {
			t.Fatalf("sample without figures: %+v", s)
		}
	}
	// Every token of both phases wrote its decision before it was sent.
	if served == 0 || last.Decisions < int64(served) {
		t.Fatalf("%d steady tokens, %d decisions", served, last.Decisions)
	}
}
