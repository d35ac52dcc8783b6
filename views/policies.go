package views

import (
	"strconv"
	"strings"
)

// Option is one choice of a select.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// PolicyListProps is the policies page.
type PolicyListProps struct {
	Policies []PolicyRow
}

// PolicyRow is one policy in the list.
type PolicyRow struct {
	ID      string
	Name    string
	Kind    string
	Version int
	Updated string
	UsedBy  []string
}

// PolicyEditorProps is the editor: the whole draft, its errors, the
// simulator and, for a saved policy, where it is attached.
type PolicyEditorProps struct {
	// ID is empty for a policy not saved yet.
	ID string
	// Note is the note typed for the next version, kept across re-renders.
	Note string
	// Action is where the form posts.
	Action      string
	Base        int
	Name        string
	Description string
	Kinds       []Option
	Defaults    []Option
	// Rego is the module of a policy written in Rego; RegoMode shows it
	// instead of the rules.
	Rego     string
	RegoMode bool
	Rules    []RuleProps
	// Summary is the draft read as an if / else-if chain.
	Summary []SummaryLine
	// Errors are messages for the top fields (name, kind, default, description).
	Errors map[string][]string
	// Problems lists every problem, for the summary at the top; Conflict is
	// set when someone else saved in between.
	Problems []string
	Conflict bool
	// CondTypes are the condition types offered by "Add condition".
	CondTypes []Option
	Pickers   Pickers
	Sim       SimProps
	// Usage and Attach are set for a saved policy.
	Usage  []string
	Attach []Option
	Detach []Option
	// AppQ searches the applications offered in Attach by name; AppPager
	// pages through them.
	AppQ     string
	AppPager Pager
	// RouteAttach offers attaching to an API route (api_request policies).
	RouteAttach bool
	// APIs are the registered APIs a route can be for (value: identifier).
	APIs []Option
	// Attribution is trusted HTML crediting the geolocation data.
	Attribution string
	// ReplayDays is the impact preview's window; Replay its result.
	ReplayDays string
	Replay     *ReplayProps
	// ReplayProgress is set instead of Replay's result while it runs.
	ReplayProgress *ReplayProgress
	// Shadow is the report-only section of a saved policy.
	Shadow *ShadowProps
}

// Pickers are the choices of the picker inputs.
type Pickers struct {
	Countries []string
	Orgs      []Option
	Plans     []Option
	Zones     []string
	// Groups are the organizations' groups, offered on the group
	// condition's input (Label says whose and from where).
	Groups []Option
	// Clients are apps of every organization, for the simulator.
	Clients []Option
}

// SummaryLine is one sentence of the readable chain.
type SummaryLine struct {
	Rule    int
	Text    string
	Decided bool
}

// RuleProps is one rule of the draft. Index is its position (0-based) and
// the key its fields are named by.
type RuleProps struct {
	Index      int
	Name       string
	Actions    []Option
	Conditions []CondProps
	Errors     []string
	First      bool
	Last       bool
	// Decided is set when the simulation decided by this rule; Failed says
	// why it did not match ("condition 1 (location is new): …").
	Decided bool
	Failed  string
	Tried   bool
}

// CondProps is one condition of a rule, with only its type's inputs used.
type CondProps struct {
	Index     int
	Type      string
	TypeLabel string
	Negate    bool
	// Values is the one-per-line list (groups, addresses, ids, scopes,
	// attribute values).
	Values string
	// Picks are the chosen countries, orgs, plans or client types.
	Picks  []string
	Days   []string
	From   string
	To     string
	TZ     string
	Within string
	Attr   string
	// EndsWithin is a partnership condition's "30d".
	EndsWithin string
	// Source ("param", "header" or "query") and Key name the request value
	// of a param_in_attribute condition; Attr is then the attribute, of the
	// user or, when Of is "org", of the organization.
	Source, Key, Of string
	// Errors by field: "" (the condition), "values", "days", "from", "to",
	// "tz", "within", "ends_within", "attr", "type", "new".
	Errors map[string][]string
	// Failed is set when the simulation stopped at this condition.
	Failed bool
}

// Has reports whether the picker value v is chosen.
func (c CondProps) Has(v string) bool {
	for _, p := range c.Picks {
		if p == v {
			return true
		}
	}
	return false
}

// HasDay reports whether day d is ticked.
func (c CondProps) HasDay(d string) bool {
	for _, x := range c.Days {
		if x == d {
			return true
		}
	}
	return false
}

// Extra returns chosen values that are not among the offered options, so an
// imported value the picker does not know is still shown (and reported).
func (c CondProps) Extra(offered []string) []string {
	var out []string
	for _, p := range c.Picks {
		found := false
		for _, o := range offered {
			if o == p {
				found = true
				break
			}
		}
		if !found {
			out = append(out, p)
		}
	}
	return out
}

// SimProps is the simulator's sample request and its result.
type SimProps struct {
	Groups, IP, Country, Time, TZ, MFAAge, Locations, Org, Plan, Client, Scopes, Attributes string
	// OrgAttributes are the organization's, name=value per line.
	OrgAttributes string
	// Method, Path and Host are the API call of an api_request policy.
	Method, Path, Host string
	Errors             map[string][]string
	Result             *SimResult
}

// SimResult is a simulated decision.
type SimResult struct {
	Action      string
	Deciding    string // "rule 1 (New location needs MFA)" or "the default"
	Reason      string
	Steps       []SimStep
	AfterStepUp string // the decision after step-up, for a Challenge
	Country     string // the country used, with where it came from
	Blocked     string // set instead of a decision when the draft has errors
}

// SimStep is one rule tried by the simulation.
type SimStep struct {
	Rule    int
	Name    string
	Matched bool
	Text    string
}

// PolicyVersionsProps is the versions page.
type PolicyVersionsProps struct {
	ID       string
	Name     string
	Current  int
	Versions []VersionRow
	// Diff is set when two versions are compared.
	A, B int
	Diff []DiffRow
}

// VersionRow is one saved version.
type VersionRow struct {
	Version int
	Author  string
	At      string
	Note    string
}

// DiffRow is one line of a comparison; Op is "+", "-" or " ".
type DiffRow struct {
	Op   string
	Text string
}

// DiffClass is the row's CSS class.
func (d DiffRow) DiffClass() string {
	switch d.Op {
	case "+":
		return "diff-add"
	case "-":
		return "diff-del"
	}
	return "diff-same"
}

// PolicyImportProps is the import page.
type PolicyImportProps struct {
	JSON     string
	Problems []string
}

// errText joins a field's messages.
func errText(errs map[string][]string, field string) string {
	return strings.Join(errs[field], "; ")
}

func hasErr(errs map[string][]string, field string) bool { return len(errs[field]) > 0 }

func invalidAttr(errs map[string][]string, field string) string {
	if hasErr(errs, field) {
		return "true"
	}
	return "false"
}

// rf names a rule's field in the editor form: "r2.name".
func rf(i int, field string) string { return "r" + itoa(i) + "." + field }

// cf names a condition's field: "r2.c0.values".
func cf(i, j int, field string) string { return "r" + itoa(i) + ".c" + itoa(j) + "." + field }

func itoa(i int) string { return strconv.Itoa(i) }

// clientTypes are the client_type condition's checkboxes.
func clientTypes() []string { return []string{"web", "spa", "native", "service"} }

// weekdays are the time condition's day checkboxes.
func weekdays() []string { return []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} }

func pickerOptions(p Pickers, typ string) []Option {
	if typ == "org" {
		return p.Orgs
	}
	return p.Plans
}

func pickerValues(p Pickers, typ string) []string {
	var out []string
	for _, o := range pickerOptions(p, typ) {
		out = append(out, o.Value)
	}
	return out
}

// DecisionListProps is the decision log page.
type DecisionListProps struct {
	Filter DecisionFilterProps
	Points []string
	Rows   []DecisionRow
	// Query is the filter as a query string, for the CSV link.
	Query       string
	Attribution string
	Pager       Pager
	// Charts summarise the viewer's scope over time; nil leaves them out.
	Charts *DecisionCharts
}

// DecisionFilterProps are the filter's values as typed. Platform is false
// for org admins, who cannot choose another organization.
type DecisionFilterProps struct {
	Org, User, Client, Action, Point, From, Until string
	Platform                                      bool
	Errors                                        map[string][]string
}

// DecisionRow is one decision.
type DecisionRow struct {
	ID, At, Point, Org, Subject, Client, Action, Reason, Policy, Rule, Context string
	Version                                                                    int
	// Shadow is the report-only version's decision, when one was attached.
	Shadow string
	// PolicyID and UserID link the decision to its policy and person.
	PolicyID, UserID string
}

// DecisionLinks are the detail page's links: to the policy version, the
// user and the app (as the viewer may open them), and the replay.
type DecisionLinks struct {
	Version, User, App, Replay string
}

// authMethods are the auth_method condition's checkboxes (RFC 8176 names).
func authMethods() []string { return []string{"pwd", "otp", "hwk", "swk", "user", "pin", "mfa", "fed"} }

func i64toa(i int64) string { return strconv.FormatInt(i, 10) }

// ReplayProps is an impact preview's result.
type ReplayProps struct {
	// Error is shown instead of a result (the draft has problems).
	Error             string
	Replayed, Changed int
	// Window says over what ("over the last 7 days").
	Window, Elapsed string
	Limit           int
	Truncated       bool
	StoppedAt       string
	Cells           []ReplayCellProps
	People, Apps    []AffectedProps
}

// ReplayCellProps is one (was, would be) cell of the matrix.
type ReplayCellProps struct {
	From, To string
	Count    int
	Changed  bool
	Samples  []ReplaySampleProps
}

// ReplaySampleProps is one decision that would change.
type ReplaySampleProps struct {
	ID, At, Point, Who, Client, Before, After string
}

// AffectedProps is a person or app with how many of their decisions change.
type AffectedProps struct {
	Key     string
	Changed int
}

// ShadowProps is the report-only section of a policy's page.
type ShadowProps struct {
	Version          int
	Since            string
	Total, Disagreed int64
	Cells            []ShadowCellProps
	Where            []ShadowCellProps
	// Versions are the saved versions that can be attached in report-only mode.
	Versions []Option
}

// ShadowCellProps counts disagreements by action pair or by place.
type ShadowCellProps struct {
	Enforced, Shadow, Point, ClientID string
	Count                             int64
}

// ReplayProgress is a running impact preview, which the page polls.
type ReplayProgress struct {
	Job     string
	SimBase string
	// Replayed decisions so far, through that time, Percent of the window.
	Replayed int
	Through  string
	Percent  int
}
