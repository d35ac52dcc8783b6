package scim

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// obj is a JSON object whose keys were lower-cased, recursively: SCIM
// attribute names are case-insensitive (RFC 7643 §2.1), and directories
// differ (Entra ID's "Operations" and "Op", others' "operations").
type obj map[string]any

func readBody(r *http.Request) (obj, *Error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, badRequest("invalidSyntax", "The request body could not be read.")
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, badRequest("invalidSyntax", "The request body is not valid JSON.")
	}
	o, ok := lower(v).(obj)
	if !ok {
		return nil, badRequest("invalidSyntax", "The request body must be a JSON object.")
	}
	return o, nil
}

func lower(v any) any {
	switch x := v.(type) {
	case map[string]any:
		o := obj{}
		for k, val := range x {
			o[strings.ToLower(k)] = lower(val)
		}
		return o
	case []any:
		for i := range x {
			x[i] = lower(x[i])
		}
		return x
	}
	return v
}

// str reads a string attribute; present says whether it was there at all.
func (o obj) str(key string) (s string, present bool, e *Error) {
	v, ok := o[key]
	if !ok || v == nil {
		return "", ok, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", true, badRequest("invalidValue", "The attribute "+key+" must be a string.")
	}
	return strings.TrimSpace(s), true, nil
}

// boolean reads a boolean that may arrive as a string: Entra ID sends
// "active": "False".
func boolean(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(x)))
		return b, err == nil
	}
	return false, false
}

// filter is the one form of filter served: attribute eq "value".
type filter struct {
	attr  string // lower-cased, e.g. "username", "externalid", "emails.value"
	value string
}

var filterRE = regexp.MustCompile(`(?i)^\s*([a-z][a-z0-9._:\[\]" ]*?)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$`)

// emailsTypeRE turns Entra's emails[type eq "work"].value into emails.value.
var emailsTypeRE = regexp.MustCompile(`(?i)^emails\[type eq "[a-z]+"\]\.value$`)

func parseFilter(q string, allowed ...string) (*filter, *Error) {
	if strings.TrimSpace(q) == "" {
		return nil, nil
	}
	m := filterRE.FindStringSubmatch(q)
	if m == nil {
		return nil, badRequest("invalidFilter", `Only filters of the form attribute eq "value" are supported.`)
	}
	attr := strings.ToLower(m[1])
	if emailsTypeRE.MatchString(attr) {
		attr = "emails.value"
	}
	// A fully qualified name (urn:…:User:userName) names the same attribute.
	if i := strings.LastIndexByte(attr, ':'); i >= 0 {
		attr = attr[i+1:]
	}
	for _, a := range allowed {
		if attr == a {
			var val string
			if err := json.Unmarshal([]byte(`"`+m[2]+`"`), &val); err != nil {
				return nil, badRequest("invalidFilter", "The filter's value is not a valid string.")
			}
			return &filter{attr: attr, value: val}, nil
		}
	}
	return nil, badRequest("invalidFilter", "Filtering on "+m[1]+" is not supported.")
}

// page reads startIndex (1-based) and count.
func page(r *http.Request) (start, count int) {
	start, count = 1, 100
	if v, err := strconv.Atoi(r.URL.Query().Get("startIndex")); err == nil && v > 1 {
		start = v
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("count")); err == nil && v >= 0 {
		count = min(v, 500)
	}
	return start, count
}

func listResponse[T any](all []T, start, count int) map[string]any {
	from := min(start-1, len(all))
	to := min(from+count, len(all))
	items := all[from:to]
	if items == nil {
		items = []T{}
	}
	return map[string]any{
		"schemas":      []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
		"totalResults": len(all),
		"startIndex":   start,
		"itemsPerPage": len(items),
		"Resources":    items,
	}
}

// patchOp is one operation of a PATCH request.
type patchOp struct {
	op    string // add, replace, remove (lower-cased: Entra sends "Replace")
	path  string // as sent
	value any
}

// readPatch reads a PatchOp body: Operations in any casing, op in any case.
func readPatch(r *http.Request) ([]patchOp, *Error) {
	o, e := readBody(r)
	if e != nil {
		return nil, e
	}
	list, ok := o["operations"].([]any)
	if !ok {
		return nil, badRequest("invalidSyntax", "A PATCH request needs an Operations array.")
	}
	var ops []patchOp
	for _, it := range list {
		m, ok := it.(obj)
		if !ok {
			return nil, badRequest("invalidSyntax", "Each operation must be an object.")
		}
		op, _ := m["op"].(string)
		op = strings.ToLower(strings.TrimSpace(op))
		if op != "add" && op != "replace" && op != "remove" {
			return nil, badRequest("invalidSyntax", "An operation's op must be add, replace or remove.")
		}
		path, _ := m["path"].(string)
		ops = append(ops, patchOp{op: op, path: strings.TrimSpace(path), value: m["value"]})
	}
	return ops, nil
}

// membersPathRE matches members[value eq "…"], the path Okta and Entra use
// to remove one member.
var membersPathRE = regexp.MustCompile(`(?i)^members\[\s*value\s+eq\s+"([^"]*)"\s*\]$`)
