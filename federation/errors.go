package federation

import (
	"errors"
	"sort"
	"strings"
)

// Errors the sign-in flow maps to fixed messages with errors.Is.
var (
	// ErrUpstream: the upstream refused or answered something that does not
	// verify (bad state, nonce, signature, audience, expiry…).
	ErrUpstream = errors.New("federation: the identity provider's answer was not accepted")
	// ErrOtherOrgDomain: the email's domain belongs to another organization.
	ErrOtherOrgDomain = errors.New("federation: email domain belongs to another organization")
	// ErrUnverifiedLink: an account with this email exists, but the upstream
	// did not say the email is verified, so it is not linked.
	ErrUnverifiedLink = errors.New("federation: email not verified; account not linked")
	// ErrPrivilegedLink: the account with this email is a platform admin's,
	// which is never linked to an upstream identity by email.
	ErrPrivilegedLink = errors.New("federation: a platform admin's account is not linked by email")
	// ErrNoEmail: the upstream gave no email address.
	ErrNoEmail = errors.New("federation: the identity provider gave no email address")
	// ErrUserDisabled: the Portico user is disabled.
	ErrUserDisabled = errors.New("federation: user is disabled")
	// ErrOrgInactive: the organization is suspended or outside its partnership.
	ErrOrgInactive = errors.New("federation: organization is not active")
	// ErrConnectionDisabled: the connection is switched off.
	ErrConnectionDisabled = errors.New("federation: connection is disabled")
	// ErrUnknownType: no factory is registered for the connection's type.
	ErrUnknownType = errors.New("federation: unknown connection type")
)

// upstreamError wraps a cause as ErrUpstream, keeping the cause for the log.
type upstreamError struct{ cause error }

func (e upstreamError) Error() string   { return ErrUpstream.Error() + ": " + e.cause.Error() }
func (e upstreamError) Is(t error) bool { return t == ErrUpstream }
func (e upstreamError) Unwrap() error   { return e.cause }

// Upstream marks err as an answer from the upstream that was not accepted.
// Connectors use it so the flow can tell "the IdP said no" from "we broke".
func Upstream(err error) error {
	if err == nil {
		return nil
	}
	return upstreamError{err}
}

// FieldErrors maps a setting's key to a person-readable message.
type FieldErrors map[string]string

func (f FieldErrors) Error() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("invalid connection:")
	for _, k := range keys {
		b.WriteString(" " + k + ": " + f[k])
	}
	return b.String()
}
