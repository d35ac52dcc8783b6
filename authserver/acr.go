package authserver

import (
	"errors"
	"slices"
	"strings"
)

// Authentication context classes Portico issues and honours in acr_values,
// weakest first. Each is derived from the session's amr (RFC 8176): what
// Portico itself verified. An upstream identity provider's own amr is
// reported in the token but does not raise the level.
const (
	// ACRPassword: one factor (a password, or an identity provider's sign-in).
	ACRPassword = "urn:portico:acr:pwd"
	// ACRMFA: two factors (password or IdP plus a TOTP code or recovery
	// code, or a passkey verified with the person's PIN or biometric).
	ACRMFA = "urn:portico:acr:mfa"
	// ACRPhishingResistant: a passkey (WebAuthn, origin-bound) was part of
	// the sign-in or its step-up.
	ACRPhishingResistant = "urn:portico:acr:phr"
)

// ACRValuesSupported lists the acr values, weakest first, for discovery.
func ACRValuesSupported() []string {
	return []string{ACRPassword, ACRMFA, ACRPhishingResistant}
}

// acrLevel is a value's rank in ACRValuesSupported; -1 when unknown.
func acrLevel(acr string) int { return slices.Index(ACRValuesSupported(), acr) }

// passkeyMethods are the amr values a passkey leaves.
var passkeyMethods = []string{"hwk", "swk"}

// ACRFor is the strongest class the amr reaches.
func ACRFor(amr []string) string {
	has := func(m ...string) bool {
		for _, x := range m {
			if slices.Contains(amr, x) {
				return true
			}
		}
		return false
	}
	switch {
	case has(passkeyMethods...):
		return ACRPhishingResistant
	case has("mfa", "otp"):
		return ACRMFA
	}
	return ACRPassword
}

// StepUpError is ErrStepUpRequired with what the step-up must use:
// Methods (amr values, any one of them; "hwk swk" is a passkey) or any
// second factor when empty. errors.Is(err, ErrStepUpRequired) holds.
type StepUpError struct {
	Methods []string
	Reason  string
}

func (e *StepUpError) Error() string {
	return ErrStepUpRequired.Error() + ": " + e.Reason
}

// Is makes errors.Is(err, ErrStepUpRequired) true.
func (e *StepUpError) Is(target error) bool { return target == ErrStepUpRequired }

// StepUpMethods returns what err asks the step-up to use: nil for any
// second factor or when err is no StepUpError.
func StepUpMethods(err error) []string {
	var s *StepUpError
	if errors.As(err, &s) {
		return s.Methods
	}
	return nil
}

// unmetACR returns the step-up the requested acr_values need, or nil when
// the amr meets the weakest one requested that Portico knows (acr_values
// is a list of acceptable values; unknown values are ignored).
func unmetACR(requested, amr []string) *StepUpError {
	want := -1
	for _, v := range requested {
		if l := acrLevel(v); l >= 0 && (want < 0 || l < want) {
			want = l
		}
	}
	if want < 0 || acrLevel(ACRFor(amr)) >= want {
		return nil
	}
	e := &StepUpError{Reason: "the app asked for acr " + strings.Join(requested, " ")}
	if ACRValuesSupported()[want] == ACRPhishingResistant {
		e.Methods = passkeyMethods
	}
	return e
}

// methodsMet reports whether the amr holds one of methods (all of them
// when methods is empty: any step-up counts).
func methodsMet(methods, amr []string) bool {
	if len(methods) == 0 {
		return true
	}
	for _, m := range methods {
		if slices.Contains(amr, m) {
			return true
		}
	}
	return false
}
