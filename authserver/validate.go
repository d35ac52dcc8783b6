package authserver

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// FieldError is one problem with one input field. Field is a path such as
// "redirect_uris[1]" so the portal can show the message beside the input.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every problem with an input at once; nothing was
// stored. Test with errors.As.
type ValidationError struct {
	Fields []FieldError `json:"fields"`
}

// Error joins the problems into one line.
func (v *ValidationError) Error() string {
	parts := make([]string, len(v.Fields))
	for i, f := range v.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// For returns the message for a field, or "".
func (v *ValidationError) For(field string) string {
	for _, f := range v.Fields {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}

type fieldErrors []FieldError

func (f *fieldErrors) add(field, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return &ValidationError{Fields: f}
}

// validScopeToken checks RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
func validScopeToken(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == 0x21 || c >= 0x23 && c <= 0x5b || c >= 0x5d && c <= 0x7e) {
			return false
		}
	}
	return true
}

// validWebURL checks an optional launch or logo URL: https, or http on a
// loopback address.
func validWebURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "must be an absolute URL"
	}
	if u.User != nil {
		return "must not contain user information"
	}
	if u.Scheme == "https" || u.Scheme == "http" && (u.Hostname() == "localhost" || isLoopbackIP(u.Hostname())) {
		return ""
	}
	return "must use https (http is allowed only for loopback addresses)"
}

func hasDuplicates(v []string) bool {
	c := slices.Clone(v)
	slices.Sort(c)
	return len(slices.Compact(c)) != len(v)
}
