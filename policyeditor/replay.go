package policyeditor

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"sort"
	"time"

	"portico/store"
)

// Replay answers "what would this policy have decided" over the decision
// log: every recorded decision in the window is decided again by a
// compiled policy from the facts the log kept, and compared with what was
// decided then. It streams over the log (store.ScanDecisions) and parses
// each distinct shared context once, so a decision costs one evaluation
// and no allocation of its own.

// ReplayOptions choose the decisions to replay.
type ReplayOptions struct {
	// Since and Until bound the window (Until zero: now).
	Since, Until time.Time
	// PolicyID replays the decisions some version of this policy made: the
	// places it is (or was) attached. Empty: Points and ClientIDs choose.
	PolicyID  string
	Points    []Point
	ClientIDs []string
	// Limit is how many decisions are replayed at most (0: DefaultReplayLimit);
	// past it the report says it was cut short and when it stopped.
	Limit int
	// Samples is how many sample decisions each changed cell keeps (0: 5).
	Samples int
	// Top is how many most affected people and apps are kept (0: 10).
	Top int
	// Progress, when set, is called every ReplayProgressEvery decisions
	// with how many were replayed so far and the time of the last one: the
	// log is read in time order, so that time says how far along it is.
	Progress func(replayed int, through time.Time)
}

// DefaultReplayLimit bounds a replay unless told otherwise: a week of a
// busy portal.
const DefaultReplayLimit = 10_000_000

// ReplayProgressEvery is how often Progress is called.
const ReplayProgressEvery = 20_000

// ReplayCell is one (recorded action → replayed action) pair of the
// matrix, with samples when the two differ.
type ReplayCell struct {
	From    string         `json:"from"`
	To      string         `json:"to"`
	Count   int            `json:"count"`
	Samples []ReplaySample `json:"samples,omitempty"`
}

// ReplaySample is one decision that would change: who, where, and the rule
// that decided before and after.
type ReplaySample struct {
	DecisionID string    `json:"decision_id"`
	At         time.Time `json:"at"`
	Point      string    `json:"point"`
	OrgID      string    `json:"org_id,omitempty"`
	UserID     string    `json:"user_id,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	ClientID   string    `json:"client_id,omitempty"`
	SteppedUp  bool      `json:"stepped_up,omitempty"`
	Before     string    `json:"before"`
	BeforeRule int       `json:"before_rule"`
	BeforeWhy  string    `json:"before_reason"`
	After      string    `json:"after"`
	AfterRule  int       `json:"after_rule"`
	AfterWhy   string    `json:"after_reason"`
}

// Affected is a person or an app and how many of their decisions change.
type Affected struct {
	Key     string `json:"key"` // the subject (email, machine client_id) or client_id
	Changed int    `json:"changed"`
}

// ReplayReport is the answer.
type ReplayReport struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Replayed decisions, of which Changed would be decided differently.
	Replayed int `json:"replayed"`
	Changed  int `json:"changed"`
	// Limit is the bound in force; Truncated is true when it was reached,
	// and then StoppedAt is the time of the last decision replayed (the
	// window after it was not looked at).
	Limit     int       `json:"limit"`
	Truncated bool      `json:"truncated,omitempty"`
	StoppedAt time.Time `json:"stopped_at,omitzero"`
	// Matrix has a cell per (before, after) pair seen, changes first.
	Matrix []ReplayCell `json:"matrix"`
	// People and Apps most affected, most changes first.
	People []Affected `json:"people,omitempty"`
	Apps   []Affected `json:"apps,omitempty"`
	// Elapsed is how long the replay took.
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Cell returns the (from, to) cell, zero when absent.
func (r *ReplayReport) Cell(from, to string) ReplayCell {
	for _, c := range r.Matrix {
		if c.From == from && c.To == to {
			return c
		}
	}
	return ReplayCell{From: from, To: to}
}

// errReplayLimit stops the scan at the limit.
var errReplayLimit = errors.New("replay limit reached")

// replayShared is a shared context part parsed once: the Request it
// stands for, and the auth method names whose times are per decision.
type replayShared struct {
	req       Request
	authNames []string
}

// sharedContext is DecisionContext as the shared part keeps it: the auth
// methods are either a list of names (times inline) or, in older rows, the
// whole map.
type sharedContext struct {
	DecisionContext
	AuthMethods json.RawMessage `json:"auth_methods,omitempty"`
}

func parseShared(s string) *replayShared {
	out := &replayShared{}
	if s == "" {
		return out
	}
	var c sharedContext
	if json.Unmarshal([]byte(s), &c) != nil {
		return out
	}
	if names := store.AuthMethodNames(c.AuthMethods); names != nil {
		out.authNames = names
	} else if len(c.AuthMethods) > 0 {
		json.Unmarshal(c.AuthMethods, &c.DecisionContext.AuthMethods)
	}
	out.req = RequestOf(&c.DecisionContext)
	return out
}

// RequestOf is the Request a logged context stands for: the inverse of
// ContextOf, less what the log never keeps (headers and query parameters).
// The decision's time and client come from the decision itself.
func RequestOf(c *DecisionContext) Request {
	r := Request{Country: c.Country, Org: c.Org, Plan: c.Plan, ValidUntil: c.ValidUntil, Attributes: c.Attributes,
		OrgAttributes: c.OrgAttributes,
		Issuer:        c.Issuer,
		User:          User{Groups: c.Groups, MFAAt: c.MFAAt, AuthMethods: c.AuthMethods, ConnectionID: c.Connection},
		Client:        Client{Scopes: c.Scopes, Type: c.ClientType},
		HTTP:          HTTPRequest{Method: c.Method, Path: c.Path, Host: c.Host, API: c.API},
		Token:         Token{IssuedAt: c.TokenIssuedAt, SenderConstrained: c.SenderConstrained, Features: c.Features}}
	if a, err := netip.ParseAddr(c.IP); err == nil {
		r.IP = a
	}
	for _, l := range c.Locations {
		if p, err := netip.ParsePrefix(l); err == nil {
			r.User.Locations = append(r.User.Locations, p)
		}
	}
	return r
}

// Replay decides the selected logged decisions again with pol.
func Replay(ctx context.Context, st *store.Store, pol *Policy, o ReplayOptions) (ReplayReport, error) {
	start := time.Now()
	if o.Limit <= 0 {
		o.Limit = DefaultReplayLimit
	}
	if o.Samples <= 0 {
		o.Samples = 5
	}
	if o.Top <= 0 {
		o.Top = 10
	}
	until := o.Until
	if until.IsZero() {
		until = st.Now()
	}
	rep := ReplayReport{Since: o.Since, Until: until, Limit: o.Limit}
	f := store.DecisionScan{From: o.Since, Until: until, PolicyID: o.PolicyID, ClientIDs: o.ClientIDs}
	for _, p := range o.Points {
		f.Points = append(f.Points, string(p))
	}
	type cellKey struct{ from, to Action }
	cells := map[cellKey]*ReplayCell{}
	people, apps := map[string]int{}, map[string]int{}
	shared := map[int64]*replayShared{}
	var x store.ContextExtra
	auth := map[string]time.Time{}
	var req Request
	err := st.ScanDecisions(ctx, f, func(d *store.ScannedDecision) error {
		if rep.Replayed >= o.Limit {
			return errReplayLimit
		}
		sh, ok := shared[d.ContextRef]
		if !ok {
			if len(shared) >= 100_000 {
				clear(shared)
			}
			sh = parseShared(d.SharedContext)
			shared[d.ContextRef] = sh
		}
		store.DecodeContextExtra(d.Extra, d.At, sh.authNames, &x)
		req = sh.req
		req.Now, req.Client.ID = d.At, d.ClientID
		if x.IP.IsValid() {
			req.IP = x.IP
		}
		if !x.MFAAt.IsZero() {
			req.User.MFAAt = x.MFAAt
		}
		if len(x.AuthNames) > 0 {
			clear(auth)
			for i, n := range x.AuthNames {
				auth[n] = x.AuthAt[i]
			}
			req.User.AuthMethods = auth
		}
		if !x.TokenIssuedAt.IsZero() {
			req.Token.IssuedAt = x.TokenIssuedAt
		}
		after := decideWith(pol, Point(d.Point), &req, x.SteppedUp)
		before := parseAction(d.Action)
		rep.Replayed++
		if o.Progress != nil && rep.Replayed%ReplayProgressEvery == 0 {
			o.Progress(rep.Replayed, d.At)
		}
		rep.StoppedAt = d.At
		k := cellKey{before, after.Action}
		c := cells[k]
		if c == nil {
			c = &ReplayCell{From: before.String(), To: after.Action.String()}
			cells[k] = c
		}
		c.Count++
		if before == after.Action {
			return nil
		}
		rep.Changed++
		who := d.Subject
		if who == "" {
			who = d.UserID
		}
		if who != "" {
			people[who]++
		}
		if d.ClientID != "" {
			apps[d.ClientID]++
		}
		if len(c.Samples) < o.Samples {
			c.Samples = append(c.Samples, ReplaySample{DecisionID: d.ID, At: d.At, Point: d.Point, OrgID: d.OrgID,
				UserID: d.UserID, Subject: d.Subject, ClientID: d.ClientID, SteppedUp: x.SteppedUp,
				Before: d.Action, BeforeRule: d.Rule, BeforeWhy: d.Reason,
				After: after.Action.String(), AfterRule: after.Rule, AfterWhy: after.Reason})
		}
		return nil
	})
	switch {
	case errors.Is(err, errReplayLimit):
		rep.Truncated = true
	case err != nil:
		return rep, err
	default:
		rep.StoppedAt = time.Time{}
	}
	for _, c := range cells {
		rep.Matrix = append(rep.Matrix, *c)
	}
	sort.Slice(rep.Matrix, func(i, j int) bool {
		a, b := rep.Matrix[i], rep.Matrix[j]
		if ca, cb := a.From != a.To, b.From != b.To; ca != cb {
			return ca
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.From+a.To < b.From+b.To
	})
	rep.People, rep.Apps = top(people, o.Top), top(apps, o.Top)
	rep.Elapsed = time.Since(start)
	return rep, nil
}

func top(m map[string]int, n int) []Affected {
	out := make([]Affected, 0, len(m))
	for k, v := range m {
		out = append(out, Affected{Key: k, Changed: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Changed != out[j].Changed {
			return out[i].Changed > out[j].Changed
		}
		return out[i].Key < out[j].Key
	})
	return out[:min(n, len(out))]
}

// parseAction reads a logged action; anything unknown is a Deny.
func parseAction(s string) Action {
	switch s {
	case "permit":
		return Permit
	case "challenge":
		return Challenge
	}
	return Deny
}
