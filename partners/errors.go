package partners

import (
	"sort"
	"strings"
)

// FieldErrors maps an input field to a person-readable problem with it. An
// operation that returns FieldErrors has changed nothing.
type FieldErrors map[string]string

func (f FieldErrors) Error() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + f[k]
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// orNil returns f as an error, or nil when it is empty.
func (f FieldErrors) orNil() error {
	if len(f) == 0 {
		return nil
	}
	return f
}
