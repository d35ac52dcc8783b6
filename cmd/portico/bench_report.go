package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// benchReport is what `portico bench tokens` prints.
type benchReport struct {
	Target        string      `json:"target"`
	Clients       int         `json:"clients"`
	DurationLimit string      `json:"duration_limit"`
	RequestLimit  int         `json:"request_limit,omitempty"`
	Tokens        benchPhase  `json:"tokens"`
	Reference     *benchPhase `json:"reference,omitempty"`
	// Ratio is tokens/s over the reference's requests/s in the same run: on
	// a shared, noisy machine it compares better across runs than either.
	Ratio float64 `json:"ratio,omitempty"`
	// DPoP is the same load with a DPoP proof on every request (--dpop);
	// DPoPRatio its tokens/s over the bearer phase's.
	DPoP      *benchPhase `json:"dpop,omitempty"`
	DPoPRatio float64     `json:"dpop_ratio,omitempty"`
}

// benchPhase is one measured phase in the report's units.
type benchPhase struct {
	Path       string  `json:"path"`
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	ElapsedS   float64 `json:"elapsed_s"`
	PerSecond  float64 `json:"per_second"`
	P50ms      float64 `json:"p50_ms"`
	P90ms      float64 `json:"p90_ms"`
	P99ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	FirstError string  `json:"first_error,omitempty"`
	// SignedDuringPhase counts DPoP proofs the load generator had to sign
	// while the phase ran, on the same cores, because the pre-signed ones
	// ran out.
	SignedDuringPhase int `json:"signed_during_phase,omitempty"`
}

func phaseOf(path string, r loadResult) benchPhase {
	ms := func(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 2) }
	return benchPhase{Path: path, Requests: r.Requests, Errors: r.Errors, ElapsedS: round(r.Elapsed.Seconds(), 3),
		PerSecond: round(r.PerSecond, 1), P50ms: ms(r.P50), P90ms: ms(r.P90), P99ms: ms(r.P99), MaxMs: ms(r.Max),
		FirstError: r.FirstError}
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

func (r benchReport) human() string {
	var b strings.Builder
	fmt.Fprintf(&b, "portico bench tokens: %d clients against %s (limit %s", r.Clients, r.Target, r.DurationLimit)
	if r.RequestLimit > 0 {
		fmt.Fprintf(&b, " or %d requests", r.RequestLimit)
	}
	b.WriteString(" per phase)\n")
	line := func(label, unit string, p benchPhase) {
		fmt.Fprintf(&b, "%-28s %9.0f %s  p50 %6.2f ms  p90 %6.2f ms  p99 %6.2f ms  max %7.2f ms  %d requests in %.2fs, %d errors\n",
			label, p.PerSecond, unit, p.P50ms, p.P90ms, p.P99ms, p.MaxMs, p.Requests, p.ElapsedS, p.Errors)
		if p.FirstError != "" {
			fmt.Fprintf(&b, "  first error: %s\n", p.FirstError)
		}
	}
	line("client_credentials /token", "tokens/s", r.Tokens)
	if r.DPoP != nil {
		line("same with DPoP (ES256)", "tokens/s", *r.DPoP)
		fmt.Fprintf(&b, "ratio DPoP/bearer            %.3f\n", r.DPoPRatio)
		if r.DPoP.SignedDuringPhase > 0 {
			fmt.Fprintf(&b, "  %d proofs were signed during the phase (the pre-signed ones ran out)\n", r.DPoP.SignedDuringPhase)
		}
	}
	if r.Reference != nil {
		line("reference GET /healthz", "req/s   ", *r.Reference)
		fmt.Fprintf(&b, "ratio tokens/reference       %.3f\n", r.Ratio)
	}
	return b.String()
}
