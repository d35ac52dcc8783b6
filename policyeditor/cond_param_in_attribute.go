package policyeditor

import (
	"fmt"
	"net/textproto"
	"strings"
)

// CondParamInAttribute is resource-level access: it holds when a value of
// the request — a path parameter named by a path condition of the same rule
// ("param"), a header ("header") or a query parameter ("query") — is one of
// the comma-separated values of the user's attribute "attribute", or, with
// "of": "org", of the organization's. The seed's sales rep who sees only
// their own customers is
//
//	{"type": "path", "in": ["/customers/{id}"]},
//	{"type": "param_in_attribute", "param": "id", "attribute": "assigned_customers"}
//
// and a partner limited to the regions its contract names is
//
//	{"type": "path", "in": ["/regions/{region}/*"]},
//	{"type": "param_in_attribute", "param": "region", "attribute": "regions", "of": "org"}
const CondParamInAttribute = "param_in_attribute"

const (
	fromParam uint8 = iota
	fromHeader
	fromQuery
)

var _ = registerCond(&condSpec{
	typ: CondParamInAttribute, fields: []string{"param", "header", "query", "attribute", "of"}, kinds: apiOnly,
	say: func(c Condition) string {
		what := "path parameter {" + orDots(c.Param) + "}"
		if c.Header != "" {
			what = "header " + c.Header
		} else if c.Query != "" {
			what = "query parameter " + c.Query
		}
		not := ""
		if c.Negate {
			not = "not "
		}
		return fmt.Sprintf("the %s is %sone of the %s %s", what, not, whose(c.Of == "org"), orDots(c.Attribute))
	},
	got: func(c *condition, req *Request) string {
		attrs := req.Attributes
		if c.ofOrg {
			attrs = req.OrgAttributes
		}
		return fmt.Sprintf("the %s %s is %q (path %q)", whose(c.ofOrg), c.attr, attrs[c.attr], req.HTTP.Path)
	},
	compile: func(cc *condCompiler, c Condition, out *condition) (string, string) {
		out.kind, out.attr, out.ofOrg = kParamInAttribute, c.Attribute, c.Of == "org"
		if strings.TrimSpace(c.Attribute) == "" {
			cc.add("attribute", "required")
		}
		if c.Of != "" && c.Of != "user" && c.Of != "org" {
			cc.add("of", `must be "user" or "org"`)
		}
		who := whose(out.ofOrg)
		n := 0
		for _, s := range []string{c.Param, c.Header, c.Query} {
			if s != "" {
				n++
			}
		}
		if n != 1 {
			cc.add("", `needs exactly one of "param", "header" or "query"`)
		}
		var what string
		switch {
		case c.Param != "":
			out.from, out.key, what = fromParam, c.Param, "path parameter {"+c.Param+"}"
		case c.Header != "":
			out.from, out.key, what = fromHeader, textproto.CanonicalMIMEHeaderKey(c.Header), "header "+c.Header
		default:
			out.from, out.key, what = fromQuery, c.Query, "query parameter "+c.Query
		}
		owner := "the user"
		if out.ofOrg {
			owner = "the organization"
		}
		out.missing = fmt.Sprintf("the request has no %s or %s no attribute %q", what, owner, c.Attribute)
		return fmt.Sprintf("%s is in the %s %s", what, who, c.Attribute), fmt.Sprintf("%s is not in the %s %s", what, who, c.Attribute)
	},
	// A path parameter is defined by the rule's path condition: keep the
	// patterns that name it, so evaluation can read its value.
	link: func(cc *condCompiler, c Condition, out *condition, rule []condition) {
		if c.Param == "" {
			return
		}
		for i := range rule {
			if rule[i].kind != kPath || rule[i].negate {
				continue
			}
			for _, p := range rule[i].patterns {
				if p.has(c.Param) {
					out.patterns = append(out.patterns, p)
				}
			}
		}
		if len(out.patterns) == 0 {
			cc.add("param", fmt.Sprintf("no path condition of this rule has a pattern with {%s}", c.Param))
		}
	},
})

func evalParamInAttribute(c *condition, req *Request) (bool, bool) {
	var v string
	switch c.from {
	case fromParam:
		for i := range c.patterns {
			if ok, val := c.patterns[i].match(req.HTTP.Path, c.key); ok {
				v = val
				break
			}
		}
	case fromHeader:
		if vs := req.HTTP.Header[c.key]; len(vs) > 0 {
			v = vs[0]
		}
	case fromQuery:
		if vs := req.HTTP.Query[c.key]; len(vs) > 0 {
			v = vs[0]
		}
	}
	attrs := req.Attributes
	if c.ofOrg {
		attrs = req.OrgAttributes
	}
	attr, ok := attrs[c.attr]
	if v == "" || !ok {
		return false, false
	}
	return listHas(attr, v), true
}

// listHas reports whether v is one of the comma-separated items of list
// (spaces around items ignored), without allocating.
func listHas(list, v string) bool {
	for list != "" {
		item := list
		if i := strings.IndexByte(list, ','); i >= 0 {
			item, list = list[:i], list[i+1:]
		} else {
			list = ""
		}
		if strings.TrimSpace(item) == v {
			return true
		}
	}
	return false
}

func whose(org bool) string {
	if org {
		return "organization's"
	}
	return "user's"
}
