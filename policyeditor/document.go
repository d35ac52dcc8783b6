package policyeditor

// Document is a policy as admins write it: the import/export format, the editor's
// model and the contract for automation (DESIGN.md, "The policy document").
// Marshalling it with encoding/json produces that format; reading goes through
// ParseDocument (or Document.UnmarshalJSON), which is strict about unknown fields.
//
// In Go the zero Action is Deny, so a Document built in code without a Default
// denies by default; in JSON "default" is required and its absence is reported.
type Document struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Kind        Kind   `json:"kind"`
	Rules       []Rule `json:"rules"`
	Default     Action `json:"default"`
	// Rego, when set, is the policy written in Rego instead of Rules (see
	// rego.go); Default then applies when the module gives no decision.
	Rego string `json:"rego,omitempty"`
}

// Rule decides with Action when all of its Conditions hold.
type Rule struct {
	Name       string      `json:"name,omitempty"`
	Conditions []Condition `json:"conditions"`
	Action     Action      `json:"action"`
}

// Condition is one test on a request. Type says which of the other fields apply
// (see the Cond* constants); fields that do not belong to the type are refused
// rather than ignored, so a typo never silently widens a policy.
type Condition struct {
	Type   string `json:"type"`
	Negate bool   `json:"negate,omitempty"`

	// AnyOf lists groups (group) or scopes (scope).
	AnyOf []string `json:"any_of,omitempty"`
	// In lists address ranges (ip), countries (country), org slugs (org), plans
	// (plan), client ids (client) or attribute values (attribute).
	In []string `json:"in,omitempty"`
	// New must be true for a location condition: "the location is new".
	New bool `json:"new,omitempty"`

	// Days, From, To and TZ describe a time window (time).
	Days []string `json:"days,omitempty"`
	From string   `json:"from,omitempty"`
	To   string   `json:"to,omitempty"`
	TZ   string   `json:"tz,omitempty"`

	// Within is how recent MFA must be (mfa), or the authentication method
	// (auth_method), as a Go duration such as "15m". Optional for auth_method.
	Within string `json:"within,omitempty"`

	// Name is the attribute or claim to compare (attribute).
	Name string `json:"name,omitempty"`

	// EndsWithin is how soon the organization's partnership ends (partnership),
	// as whole days such as "30d" or a Go duration such as "72h".
	EndsWithin string `json:"ends_within,omitempty"`

	// Param, Header or Query names the request value a param_in_attribute
	// condition compares with the user's attribute Attribute.
	Param     string `json:"param,omitempty"`
	Header    string `json:"header,omitempty"`
	Query     string `json:"query,omitempty"`
	Attribute string `json:"attribute,omitempty"`
	// Of is whose attribute a param_in_attribute condition reads: "user"
	// (the default) or "org", the organization the request acts for.
	Of string `json:"of,omitempty"`
}

// The condition types of the document's "type" field.
const (
	CondGroup     = "group"
	CondIP        = "ip"
	CondCountry   = "country"
	CondLocation  = "location"
	CondTime      = "time"
	CondOrg       = "org"
	CondPlan      = "plan"
	CondMFA       = "mfa"
	CondAttribute = "attribute"
	CondClient    = "client"
	CondScope     = "scope"
	// CondPartnership holds when the organization's partnership ends within
	// EndsWithin; an organization without an end date is missing data.
	CondPartnership = "partnership"
	// CondConnection holds when the user authenticated through one of the
	// identity connections (by id) in In.
	CondConnection = "connection"
	// CondClientType holds when the client's type (web, spa, native or
	// service) is in In.
	CondClientType = "client_type"
	// CondAuthMethod holds when the session was authenticated with any of the
	// RFC 8176 methods in AnyOf ("pwd", "otp", "hwk", "swk", "fed"...), within
	// Within when given. Negated in a challenge rule, it says which methods
	// the step-up must use (e.g. a passkey: hwk, swk).
	CondAuthMethod = "auth_method"
	// CondIssuer holds when the subject was vouched for by a trusted token
	// issuer (token exchange or JWT bearer grant) whose URL is in In; a
	// request about a local subject is missing data.
	CondIssuer = "issuer"
)

// AuthMethods are the method names an auth_method condition may list: the
// RFC 8176 values Portico records.
func AuthMethods() []string {
	return []string{"pwd", "otp", "hwk", "swk", "user", "pin", "mfa", "fed"}
}

// conditionFields lists, per type, the JSON fields it accepts besides "type" and
// "negate"; it is the single place both the JSON reader and Compile consult. ok is
// false for an unknown type.
func conditionFields(typ string) (fields []string, ok bool) {
	switch typ {
	case CondGroup, CondScope:
		return []string{"any_of"}, true
	case CondIP, CondCountry, CondOrg, CondPlan, CondClient, CondConnection, CondClientType, CondIssuer:
		return []string{"in"}, true
	case CondPartnership:
		return []string{"ends_within"}, true
	case CondLocation:
		return []string{"new"}, true
	case CondTime:
		return []string{"days", "from", "to", "tz"}, true
	case CondMFA:
		return []string{"within"}, true
	case CondAuthMethod:
		return []string{"any_of", "within"}, true
	case CondAttribute:
		return []string{"name", "in"}, true
	}
	if s := condSpecs[typ]; s != nil {
		return s.fields, true
	}
	return nil, false
}

// ConditionTypes returns the condition types in the order the editor offers them.
func ConditionTypes() []string {
	return append([]string{CondGroup, CondIP, CondCountry, CondLocation, CondTime, CondOrg,
		CondPlan, CondPartnership, CondMFA, CondAuthMethod, CondConnection, CondAttribute, CondClient, CondClientType, CondIssuer, CondScope},
		condSpecOrder...)
}

// setFields names the type-specific fields that hold a value, so Compile can refuse
// fields a Go-built Condition sets but its type does not use.
func (c *Condition) setFields() []string {
	var out []string
	add := func(set bool, name string) {
		if set {
			out = append(out, name)
		}
	}
	add(c.AnyOf != nil, "any_of")
	add(c.In != nil, "in")
	add(c.New, "new")
	add(c.Days != nil, "days")
	add(c.From != "", "from")
	add(c.To != "", "to")
	add(c.TZ != "", "tz")
	add(c.Within != "", "within")
	add(c.Name != "", "name")
	add(c.EndsWithin != "", "ends_within")
	add(c.Param != "", "param")
	add(c.Header != "", "header")
	add(c.Query != "", "query")
	add(c.Attribute != "", "attribute")
	add(c.Of != "", "of")
	return out
}

func fieldAllowed(typ, field string) bool {
	fields, _ := conditionFields(typ)
	for _, f := range fields {
		if f == field {
			return true
		}
	}
	return false
}

// stringField returns the string field of the registered types' JSON name f.
func (c *Condition) stringField(f string) *string {
	switch f {
	case "param":
		return &c.Param
	case "header":
		return &c.Header
	case "query":
		return &c.Query
	case "of":
		return &c.Of
	}
	return &c.Attribute
}
