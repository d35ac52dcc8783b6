package policyeditor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/textproto"
	"slices"
	"strings"
	"time"
)

// EvalJSON is `portico policy eval`: it evaluates a policy document against a
// request document, both as DESIGN.md specifies, and returns the decision as
// {"action":"challenge","rule":1,"reason":"…"} ("rule" is null when the default
// decided). The request's "country", when given, overrides loc; loc may be nil.
// Errors are FieldErrors wrapped with "policy: " or "request: ".
func EvalJSON(policyJSON, requestJSON []byte, loc Locator) ([]byte, error) {
	pol, err := CompileJSON(policyJSON)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	req, err := ParseRequest(requestJSON, loc)
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	return json.Marshal(pol.Evaluate(&req))
}

// MarshalJSON writes the `policy eval` form, with "rule" null for the default.
func (d Decision) MarshalJSON() ([]byte, error) {
	var rule *int
	if d.Rule > 0 {
		rule = &d.Rule
	}
	return json.Marshal(struct {
		Action Action `json:"action"`
		Rule   *int   `json:"rule"`
		Reason string `json:"reason"`
	}{d.Action, rule, d.Reason})
}

// requestDoc is the request document of `policy eval`, kept apart from Request so
// the wire shape can stay stable while Request follows the engine.
type requestDoc struct {
	Time    string `json:"time"`
	IP      string `json:"ip"`
	Country string `json:"country"`
	User    struct {
		Groups     []string          `json:"groups"`
		Org        string            `json:"org"`
		Plan       string            `json:"plan"`
		Attributes map[string]string `json:"attributes"`
		// OrgAttributes are the organization's attributes.
		OrgAttributes map[string]string `json:"org_attributes"`
		MFAAt         string            `json:"mfa_at"`
		// AuthMethods maps RFC 8176 methods to when they were used (RFC 3339).
		AuthMethods map[string]string `json:"auth_methods"`
		Locations   []string          `json:"locations"`
		Connection  string            `json:"connection"`
		// PartnershipEnds is the organization's valid_until (RFC 3339).
		PartnershipEnds string `json:"partnership_ends"`
	} `json:"user"`
	Client struct {
		ID     string   `json:"id"`
		Scopes []string `json:"scopes"`
		Type   string   `json:"type"`
	} `json:"client"`
	// Issuer is the trusted external issuer that vouched for the subject.
	Issuer string `json:"issuer"`
	// Request and Token describe an API call (api_request policies).
	Request struct {
		Method  string              `json:"method"`
		Path    string              `json:"path"`
		Host    string              `json:"host"`
		API     string              `json:"api"`
		Headers map[string]string   `json:"headers"`
		Query   map[string][]string `json:"query"`
	} `json:"request"`
	Token struct {
		IssuedAt          string   `json:"issued_at"`
		SenderConstrained bool     `json:"sender_constrained"`
		Features          []string `json:"features"`
	} `json:"token"`
	// SteppedUp is accepted for symmetry with the Rego input; `policy eval`
	// evaluates as Evaluate does.
	SteppedUp bool `json:"stepped_up"`
}

// ParseRequest reads a `policy eval` request document into a Request, filling the
// country from loc (which may be nil) unless the document gives one.
func ParseRequest(data []byte, loc Locator) (Request, error) {
	var doc requestDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return Request{}, FieldErrors{{Path: DocumentPath, Message: err.Error()}}
	}
	if dec.More() {
		return Request{}, FieldErrors{{Path: DocumentPath, Message: "unexpected data after the request object"}}
	}
	var pr problems
	req := Request{
		Org:           doc.User.Org,
		Plan:          doc.User.Plan,
		Attributes:    doc.User.Attributes,
		OrgAttributes: doc.User.OrgAttributes,
		User:          User{Groups: doc.User.Groups, ConnectionID: doc.User.Connection},
		Client:        Client{ID: doc.Client.ID, Scopes: doc.Client.Scopes, Type: doc.Client.Type},
		Issuer:        doc.Issuer,
	}
	rq := doc.Request
	req.HTTP = HTTPRequest{Method: strings.ToUpper(rq.Method), Path: rq.Path, Host: strings.ToLower(rq.Host), API: rq.API, Query: rq.Query}
	if len(rq.Headers) > 0 {
		req.HTTP.Header = make(map[string][]string, len(rq.Headers))
		for k, v := range rq.Headers {
			req.HTTP.Header[textproto.CanonicalMIMEHeaderKey(k)] = []string{v}
		}
	}
	if rq.Path != "" && !strings.HasPrefix(rq.Path, "/") {
		pr.add("request.path", fmt.Sprintf("%q must start with /", rq.Path))
	}
	req.Token = Token{SenderConstrained: doc.Token.SenderConstrained, Features: doc.Token.Features}
	if doc.Token.IssuedAt != "" {
		req.Token.IssuedAt = parseTime(&pr, "token.issued_at", doc.Token.IssuedAt)
	}
	if doc.Client.Type != "" && !slices.Contains(ClientTypes(), doc.Client.Type) {
		pr.add("client.type", fmt.Sprintf("%q is not a client type (%s)", doc.Client.Type, strings.Join(ClientTypes(), ", ")))
	}
	if doc.User.PartnershipEnds != "" {
		req.ValidUntil = parseTime(&pr, "user.partnership_ends", doc.User.PartnershipEnds)
	}
	if doc.Time == "" {
		pr.add("time", "required: the engine reads no clock")
	} else {
		req.Now = parseTime(&pr, "time", doc.Time)
	}
	if doc.User.MFAAt != "" {
		req.User.MFAAt = parseTime(&pr, "user.mfa_at", doc.User.MFAAt)
	}
	for m, at := range doc.User.AuthMethods {
		if req.User.AuthMethods == nil {
			req.User.AuthMethods = map[string]time.Time{}
		}
		req.User.AuthMethods[m] = parseTime(&pr, "user.auth_methods."+m, at)
	}
	if doc.IP != "" {
		a, err := netip.ParseAddr(doc.IP)
		if err != nil {
			pr.add("ip", fmt.Sprintf("%q is not an IP address", doc.IP))
		}
		req.IP = a
	}
	for i, s := range doc.User.Locations {
		p, ok := parseRange(s)
		if !ok {
			pr.add(fmt.Sprintf("user.locations[%d]", i), fmt.Sprintf("%q is not a network or address", s))
		}
		req.User.Locations = append(req.User.Locations, p)
	}
	switch {
	case doc.Country != "":
		if !IsCountryCode(doc.Country) {
			pr.add("country", fmt.Sprintf("%q is not an ISO 3166 alpha-2 country code%s", doc.Country, countryHint(doc.Country)))
		}
		req.Country = doc.Country
	case loc != nil && req.IP.IsValid():
		req.Country = loc.Country(req.IP)
	}
	return req, pr.err()
}

func parseTime(pr *problems, path, s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		pr.add(path, fmt.Sprintf("%q is not an RFC 3339 time such as 2026-11-23T23:00:00Z", s))
	}
	return t
}
