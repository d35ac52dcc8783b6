package policyeditor

import "strings"

// CountryCodes returns every ISO 3166-1 alpha-2 code a country condition
// accepts, sorted, for the editor's country picker.
func CountryCodes() []string { return strings.Fields(iso3166) }
