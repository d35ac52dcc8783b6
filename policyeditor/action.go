package policyeditor

import "fmt"

// Action is what a rule or the default decides. Its zero value is Deny, so a
// Decision or Rule that was never filled in fails closed.
type Action uint8

// The actions a policy can take.
const (
	// Deny refuses the request.
	Deny Action = iota
	// Permit lets the request through.
	Permit
	// Challenge asks for step-up MFA, after which the policy is evaluated again
	// (see Policy.AfterStepUp).
	Challenge
)

var actionNames = [...]string{Deny: "deny", Permit: "permit", Challenge: "challenge"}

// String returns the document spelling: "deny", "permit" or "challenge".
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// ParseAction reads the document spelling of an action.
func ParseAction(s string) (Action, error) {
	for i, n := range actionNames {
		if n == s {
			return Action(i), nil
		}
	}
	return Deny, fmt.Errorf("%q is not an action (permit, deny or challenge)", s)
}

// MarshalText writes the document spelling, so Actions appear as "permit" in JSON.
func (a Action) MarshalText() ([]byte, error) {
	if int(a) >= len(actionNames) {
		return nil, fmt.Errorf("policyeditor: invalid action %d", uint8(a))
	}
	return []byte(actionNames[a]), nil
}

// UnmarshalText reads the document spelling.
func (a *Action) UnmarshalText(b []byte) error {
	v, err := ParseAction(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Kind says where a policy is evaluated, which decides what a request can carry:
// a machine-to-machine request has no user.
type Kind string

// The kinds of policy, as DESIGN.md lists them.
const (
	// KindUserAccess is evaluated at dashboard launch, /authorize and refresh.
	KindUserAccess Kind = "user_access"
	// KindMachineToMachine is evaluated for client_credentials and token exchange.
	KindMachineToMachine Kind = "machine_to_machine"
	// KindClientRegistration is evaluated when an app is registered, in the portal
	// or by dynamic client registration.
	KindClientRegistration Kind = "client_registration"
	// KindAPIRequest is evaluated by the authorizer for every API call a
	// gateway asks about: a request with a method, path and host, and the
	// access token presented with it.
	KindAPIRequest Kind = "api_request"
)

// Valid reports whether k is one of the three kinds.
func (k Kind) Valid() bool {
	return k == KindUserAccess || k == KindMachineToMachine || k == KindClientRegistration || k == KindAPIRequest
}
