package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
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
		if strings.HasPrefix(p.Path, "/admin/orgs") && !strings.Contains(p.Path, "q=") && p.Rows < 40 {
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
