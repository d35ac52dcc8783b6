package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
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
