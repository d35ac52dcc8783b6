package policyeditor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ParseDocument reads a policy document strictly: unknown fields, fields of the
// wrong JSON type and a missing "kind", "default" or rule "action" are reported
// with their paths. It checks shape only; Compile checks meaning, and CompileJSON
// does both and reports every problem of both at once.
//
// On error the returned Document holds whatever could be read, so an editor can
// still show the rest of an imported file.
func ParseDocument(data []byte) (Document, error) {
	var p problems
	doc := parseDocument(data, &p)
	return doc, p.err()
}

// UnmarshalJSON makes json.Unmarshal into a Document as strict as ParseDocument.
func (d *Document) UnmarshalJSON(data []byte) error {
	doc, err := ParseDocument(data)
	*d = doc
	return err
}

// CompileJSON parses and compiles a document, listing the problems of both steps.
func CompileJSON(data []byte) (*Policy, error) {
	var p problems
	doc := parseDocument(data, &p)
	pol, err := Compile(doc)
	if err == nil && len(p.errs) == 0 {
		return pol, nil
	}
	if fe, ok := err.(FieldErrors); ok {
		for _, e := range fe {
			// A field that could not be read also looks missing or empty to Compile;
			// saying so twice would only bury the real message.
			if !coveredBy(e.Path, p.errs) {
				p.errs = append(p.errs, e)
			}
		}
	}
	sortByPlace(p.errs)
	return nil, p.err()
}

// sortByPlace groups the problems of both phases by rule and condition, keeping
// each phase's order within a group, so an editor lists them top to bottom.
func sortByPlace(errs FieldErrors) {
	slices.SortStableFunc(errs, func(a, b FieldError) int {
		ar, ac := place(a.Path)
		br, bc := place(b.Path)
		if ar != br {
			return ar - br
		}
		return ac - bc
	})
}

// place extracts the rule and condition index of a path, -1 where absent.
func place(path string) (ruleIdx, condIdx int) {
	ruleIdx, condIdx = -1, -1
	if rest, ok := strings.CutPrefix(path, "rules["); ok {
		n, after := leadingInt(rest)
		ruleIdx = n
		if rest, ok := strings.CutPrefix(after, "].conditions["); ok {
			condIdx, _ = leadingInt(rest)
		}
	}
	return ruleIdx, condIdx
}

func leadingInt(s string) (int, string) {
	n, i := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9' && n < 1<<30; i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n, s[i:]
}

func coveredBy(path string, errs FieldErrors) bool {
	for _, e := range errs {
		if e.Path == DocumentPath || path == e.Path || strings.HasPrefix(path, e.Path+".") ||
			strings.HasPrefix(path, e.Path+"[") {
			return true
		}
	}
	return false
}

// object is a JSON object read key by key, so each value is decoded with its own
// path and keys nobody asked for can be reported as unknown.
type object struct {
	path   string
	fields map[string]json.RawMessage
	used   map[string]bool
	p      *problems
}

func readObject(path string, raw json.RawMessage, p *problems) (*object, bool) {
	var fields map[string]json.RawMessage
	err := json.Unmarshal(raw, &fields)
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		// Only the whole document can be malformed; nested values were checked with it.
		p.add(orDocument(path), fmt.Sprintf("not valid JSON: %v (at byte %d)", err, syntax.Offset))
		return nil, false
	case err != nil || fields == nil:
		p.add(orDocument(path), "must be a JSON object")
		return nil, false
	}
	return &object{path: path, fields: fields, used: map[string]bool{}, p: p}, true
}

func orDocument(path string) string {
	if path == "" {
		return DocumentPath
	}
	return path
}

// sub is the path of key inside o. Keys that are not plain names (an empty key,
// one with dots or brackets) are quoted, so the path stays unambiguous.
func (o *object) sub(key string) string {
	if !plainKey(key) {
		return o.path + "[" + strconv.Quote(key) + "]"
	}
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

func plainKey(k string) bool {
	for _, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return k != ""
}

// get decodes key into dst; it reports whether the key was present and readable.
// JSON null counts as absent.
func (o *object) get(key string, dst any, want string) bool {
	o.used[key] = true
	raw, ok := o.fields[key]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return false
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		o.p.add(o.sub(key), "must be "+want)
		return false
	}
	return true
}

func (o *object) required(key string, dst any, want string) bool {
	if _, ok := o.fields[key]; !ok {
		o.used[key] = true
		o.p.add(o.sub(key), "required")
		return false
	}
	return o.get(key, dst, want)
}

// unknown reports the keys never asked for, sorted so messages are stable.
func (o *object) unknown(what string) {
	var keys []string
	for k := range o.fields {
		if !o.used[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		o.p.add(o.sub(k), "unknown field"+what)
	}
}

func parseDocument(data []byte, p *problems) Document {
	var doc Document
	o, ok := readObject("", data, p)
	if !ok {
		return doc
	}
	o.required("name", &doc.Name, "a string")
	o.get("description", &doc.Description, "a string")
	var kind string
	if o.required("kind", &kind, "a string") {
		doc.Kind = Kind(kind)
	}
	var rules []json.RawMessage
	o.get("rules", &rules, "a list of rules")
	for i, raw := range rules {
		doc.Rules = append(doc.Rules, parseRule(o.sub("rules")+"["+strconv.Itoa(i)+"]", raw, p))
	}
	o.get("rego", &doc.Rego, "a string holding a Rego module")
	var def string
	getDefault := o.required
	if doc.Rego != "" {
		getDefault = o.get // a Rego policy decides itself; default is its fallback
	}
	if getDefault("default", &def, `"permit", "deny" or "challenge"`) {
		if a, err := ParseAction(def); err != nil {
			p.add("default", err.Error())
		} else {
			doc.Default = a
		}
	}
	o.unknown("")
	return doc
}

func parseRule(path string, raw json.RawMessage, p *problems) Rule {
	var r Rule
	o, ok := readObject(path, raw, p)
	if !ok {
		return r
	}
	o.get("name", &r.Name, "a string")
	var conds []json.RawMessage
	if o.required("conditions", &conds, "a list of conditions") {
		// An empty list must stay distinguishable from a missing one for Compile.
		r.Conditions = make([]Condition, 0, len(conds))
	}
	for i, c := range conds {
		r.Conditions = append(r.Conditions, parseCondition(fmt.Sprintf("%s.conditions[%d]", path, i), c, p))
	}
	var act string
	if o.required("action", &act, `"permit", "deny" or "challenge"`) {
		if a, err := ParseAction(act); err != nil {
			p.add(o.sub("action"), err.Error())
		} else {
			r.Action = a
		}
	}
	o.unknown("")
	return r
}

func parseCondition(path string, raw json.RawMessage, p *problems) Condition {
	var c Condition
	o, ok := readObject(path, raw, p)
	if !ok {
		return c
	}
	if !o.required("type", &c.Type, "a string") {
		o.get("negate", &c.Negate, "true or false")
		return c
	}
	fields, known := conditionFields(c.Type)
	if !known {
		// Compile reports the unknown type; its other fields mean nothing yet.
		return c
	}
	o.get("negate", &c.Negate, "true or false")
	for _, f := range fields {
		switch f {
		case "any_of":
			o.get(f, &c.AnyOf, "a list of strings")
		case "in":
			o.get(f, &c.In, "a list of strings")
		case "new":
			o.get(f, &c.New, "true")
		case "days":
			o.get(f, &c.Days, "a list of days")
		case "from":
			o.get(f, &c.From, `a time of day "HH:MM"`)
		case "to":
			o.get(f, &c.To, `a time of day "HH:MM"`)
		case "tz":
			o.get(f, &c.TZ, "a time zone name")
		case "within":
			o.get(f, &c.Within, `a duration such as "15m"`)
		case "name":
			o.get(f, &c.Name, "a string")
		case "param", "header", "query", "attribute", "of":
			o.get(f, c.stringField(f), "a string")
		case "ends_within":
			o.get(f, &c.EndsWithin, `a number of days such as "30d"`)
		}
	}
	o.unknown(" for " + article(c.Type) + " condition")
	return c
}

func article(typ string) string {
	switch typ[0] {
	case 'a', 'e', 'i', 'o', 'u':
		return "an " + typ
	}
	return "a " + typ
}
