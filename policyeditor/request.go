package policyeditor

import (
	"net/netip"
	"strings"
	"time"
)

// Request is everything a decision may look at, filled in by the caller: the
// engine reads no clock, no database and no geolocation itself, so a decision is a
// function of the Request alone and can be replayed from the decision log.
//
// Zero values mean "unknown": a condition about unknown data does not hold (and
// holds when negated). Slices and the map are only read.
type Request struct {
	// Now is the time of the request; time and mfa conditions compare against it.
	Now time.Time
	// IP is the source address; invalid when unknown. IPv4-mapped IPv6 addresses
	// are treated as the IPv4 address they carry.
	IP netip.Addr
	// Country is the ISO 3166-1 alpha-2 code, upper case, from a Locator or a
	// trusted proxy header; empty when unknown.
	Country string

	// Org is the slug of the organization the request acts for: the user's for user
	// access, the client owner's for machine-to-machine and registration.
	Org string
	// Plan is that organization's plan.
	Plan string
	// ValidUntil is when that organization's partnership ends; zero when it has
	// no end date (then a partnership condition has nothing to go on).
	ValidUntil time.Time
	// Attributes are user or client attributes and token claims, by name.
	Attributes map[string]string
	// OrgAttributes are the organization's attributes (store.Organization's),
	// which param_in_attribute conditions with "of": "org" read.
	OrgAttributes map[string]string

	// User is who signs in; empty for a machine client.
	User User
	// Client is the application asking.
	Client Client
	// Issuer is the URL of the trusted external issuer whose token vouched
	// for the subject (token exchange, JWT bearer grant); empty otherwise.
	Issuer string

	// HTTP is the API request an api_request policy decides; zero elsewhere.
	HTTP HTTPRequest
	// Token is the access token presented with it.
	Token Token
}

// HTTPRequest is an API call as the gateway reported it to the authorizer.
type HTTPRequest struct {
	// Method is upper case; Path is decoded and cleaned ("/customers/c-7");
	// Host is lower case without port.
	Method, Path, Host string
	// API is the registered API's identifier (RFC 8707 resource), empty
	// until APIs are registered; attachments and api conditions use it.
	API string
	// Header has canonical keys; Query is the parsed query string.
	Header map[string][]string
	Query  map[string][]string
}

// Token is the access token behind an API request.
type Token struct {
	IssuedAt time.Time
	// SenderConstrained is true for a DPoP- or mTLS-bound token whose proof
	// the authorizer checked.
	SenderConstrained bool
	// Features are the plan's features the token carries.
	Features []string
}

// User is the person behind a request.
type User struct {
	// Groups from the identity provider and local ones.
	Groups []string
	// MFAAt is when MFA was last completed in this session; zero when never.
	MFAAt time.Time
	// AuthMethods are the RFC 8176 methods ("pwd", "otp", "hwk", "swk",
	// "user", "fed"...) used in this session, each with when it was last
	// used; a step-up's method is in it at the step-up's time. Nil when
	// unknown.
	AuthMethods map[string]time.Time
	// Locations are the user's remembered networks (see LocationOf), at most 5.
	Locations []netip.Prefix
	// ConnectionID is the identity connection the user authenticated through in
	// this session; empty when unknown.
	ConnectionID string
}

// Client is the application behind a request.
type Client struct {
	// ID is the OAuth client_id.
	ID string
	// Scopes are the scopes requested.
	Scopes []string
	// Type is the client's type: "web", "spa", "native" or "service" (see
	// ClientTypes); empty when unknown.
	Type string
}

// StepUpMethods is StepUpWith as a list.
func (d Decision) StepUpMethods() []string { return strings.Fields(d.StepUpWith) }

// ClientTypes are the values a client_type condition may list, the types of
// application DESIGN.md defines.
func ClientTypes() []string { return []string{"web", "spa", "native", "service"} }

// Decision is the outcome of an evaluation. Its zero value is a Deny.
type Decision struct {
	Action Action
	// Rule is the 1-based index of the rule that decided, 0 when the default did.
	Rule int
	// Reason says why in words, for people and the decision log.
	Reason string
	// StepUpWith, for a Challenge, lists (space-separated, so a Decision
	// stays comparable) the methods the step-up must use, any one of them:
	// "hwk swk" for a passkey; empty means any second factor.
	StepUpWith string
}
