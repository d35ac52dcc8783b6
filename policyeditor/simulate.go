package policyeditor

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// SimInput is the editor's sample request, as people type it: every field a
// string or a list of lines, and blank meaning "not in the request".
type SimInput struct {
	Groups    []string
	IP        string
	Country   string // blank: geolocate IP
	Time      string // "2026-11-23T23:00" or RFC 3339; blank: now
	TZ        string // zone of Time when it has no offset; blank: UTC
	MFAAge    string // how long ago MFA was done, "10m"; blank: never
	Locations []string
	Org       string
	Plan      string
	ClientID  string
	Scopes    []string
	// Attributes are "name=value" lines; OrgAttributes the organization's.
	Attributes    []string
	OrgAttributes []string
	// Method, Path and Host describe an API call (api_request policies).
	Method, Path, Host string
}

// Simulation is a simulated decision with its working, and the decision
// after step-up when the first one is a Challenge.
type Simulation struct {
	Request Request
	Trace   Trace
	// AfterStepUp is set when Trace decided Challenge.
	AfterStepUp *Trace
}

// Simulate evaluates a draft document against a sample request without
// saving or recording anything. Problems with the sample come back as
// FieldErrors on SimInput's field names in snake case ("ip", "mfa_age",
// "locations[1]"); problems with the draft as Compile's FieldErrors.
func Simulate(doc Document, in SimInput, now time.Time, loc Locator) (Simulation, error) {
	req, err := in.Request(now, loc)
	if err != nil {
		return Simulation{}, err
	}
	pol, err := Compile(doc)
	if err != nil {
		return Simulation{}, err
	}
	sim := Simulation{Request: req, Trace: pol.Explain(&req)}
	if sim.Trace.Decision.Action == Challenge {
		t := pol.ExplainAfterStepUp(&req)
		sim.AfterStepUp = &t
	}
	return sim, nil
}

// Request turns the sample into a Request; now is used when Time is blank,
// and loc (may be nil) when Country is.
func (in SimInput) Request(now time.Time, loc Locator) (Request, error) {
	var pr problems
	req := Request{Now: now, Org: strings.TrimSpace(in.Org), Plan: strings.TrimSpace(in.Plan),
		User:   User{Groups: clean(in.Groups)},
		Client: Client{ID: strings.TrimSpace(in.ClientID), Scopes: clean(in.Scopes)},
		HTTP: HTTPRequest{Method: strings.ToUpper(strings.TrimSpace(in.Method)), Path: strings.TrimSpace(in.Path),
			Host: strings.ToLower(strings.TrimSpace(in.Host))}}
	zone := time.UTC
	if tz := strings.TrimSpace(in.TZ); tz != "" {
		if z, ok := loadZone(tz); ok {
			zone = z
		} else {
			pr.add("tz", fmt.Sprintf("%q is not a known time zone", tz))
		}
	}
	if s := strings.TrimSpace(in.Time); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t, err = time.ParseInLocation("2006-01-02T15:04", s, zone)
		}
		if err != nil {
			pr.add("time", fmt.Sprintf("%q is not a time such as 2026-11-23T23:00", s))
		}
		req.Now = t
	}
	if s := strings.TrimSpace(in.IP); s != "" {
		a, err := netip.ParseAddr(s)
		if err != nil {
			pr.add("ip", fmt.Sprintf("%q is not an IP address", s))
		}
		req.IP = a
	}
	switch c := strings.TrimSpace(in.Country); {
	case c != "":
		if !IsCountryCode(c) {
			pr.add("country", fmt.Sprintf("%q is not an ISO 3166 alpha-2 country code%s", c, countryHint(c)))
		}
		req.Country = c
	case loc != nil && req.IP.IsValid():
		req.Country = loc.Country(req.IP)
	}
	if s := strings.TrimSpace(in.MFAAge); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			pr.add("mfa_age", fmt.Sprintf(`%q is not a duration such as "10m" or "2h"`, s))
		}
		req.User.MFAAt = req.Now.Add(-d)
	}
	for i, s := range clean(in.Locations) {
		p, ok := parseRange(s)
		if !ok {
			pr.add(fmt.Sprintf("locations[%d]", i), fmt.Sprintf("%q is not a network or address", s))
		}
		req.User.Locations = append(req.User.Locations, p)
	}
	// One attribute per line: a value may be a comma-separated list.
	req.Attributes = attributeLines(&pr, "attributes", in.Attributes)
	req.OrgAttributes = attributeLines(&pr, "org_attributes", in.OrgAttributes)
	return req, pr.err()
}

// clean trims every item and drops blank ones, as a list typed one per line
// or separated by commas is meant.
func clean(xs []string) []string {
	var out []string
	for _, x := range xs {
		for _, part := range strings.Split(x, ",") {
			if p := strings.TrimSpace(part); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// attributeLines reads "name=value" lines into a map (nil when there are
// none), reporting bad lines under field.
func attributeLines(pr *problems, field string, in []string) map[string]string {
	var out map[string]string
	for i, s := range in {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(k) == "" {
			pr.add(fmt.Sprintf("%s[%d]", field, i), fmt.Sprintf("%q is not name=value", s))
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}
