package policyeditor

import (
	"fmt"
	"strings"
)

// CondPath holds when the API request's path matches any of the patterns in
// In. A pattern is a path whose segments are literal, or a named parameter
// "{id}" matching one non-empty segment; a final "/**" matches anything
// below (and the path itself). "/customers/{id}" matches "/customers/c-7"
// but neither "/customers" nor "/customers/c-7/orders". Parameters are what
// a param_in_attribute condition of the same rule compares.
const CondPath = "path"

var _ = registerCond(&condSpec{
	typ: CondPath, fields: []string{"in"}, kinds: apiOnly,
	say: func(c Condition) string {
		if c.Negate {
			return "the path matches none of " + orList(c.In)
		}
		return "the path matches " + orList(c.In)
	},
	got: func(_ *condition, req *Request) string { return fmt.Sprintf("the path is %q", req.HTTP.Path) },
	compile: func(cc *condCompiler, c Condition, out *condition) (string, string) {
		out.kind, out.missing = kPath, "the request has no path"
		checkItems(cc.pr, cc.path+".in", c.In, func(s string) string {
			p, msg := compilePattern(s)
			if msg == "" {
				out.patterns = append(out.patterns, p)
			}
			return msg
		})
		return "path matches " + list(c.In), "path matches none of " + list(c.In)
	},
})

func evalPath(c *condition, req *Request) (bool, bool) {
	if req.HTTP.Path == "" {
		return false, false
	}
	for i := range c.patterns {
		if ok, _ := c.patterns[i].match(req.HTTP.Path, ""); ok {
			return true, true
		}
	}
	return false, true
}

// pathPattern is a compiled path pattern.
type pathPattern struct {
	raw  string
	segs []patSeg
	rest bool // ends in "/**"
}

// patSeg is a literal segment, or a parameter when param is set.
type patSeg struct{ lit, param string }

func compilePattern(s string) (pathPattern, string) {
	p := pathPattern{raw: s}
	if !strings.HasPrefix(s, "/") {
		return p, fmt.Sprintf("%q must start with /", s)
	}
	body := s[1:]
	if rest, ok := strings.CutSuffix(s, "/**"); ok {
		p.rest, body = true, strings.TrimPrefix(rest, "/")
	}
	if body == "" {
		return p, ""
	}
	seen := map[string]bool{}
	for _, seg := range strings.Split(body, "/") {
		switch {
		case seg == "":
			return p, fmt.Sprintf("%q has an empty segment", s)
		case seg == "**":
			return p, fmt.Sprintf(`%q: "**" may only end a pattern`, s)
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
			name := seg[1 : len(seg)-1]
			if !plainKey(name) {
				return p, fmt.Sprintf("%q: parameter %q must be a plain name (letters, digits, _)", s, seg)
			}
			if seen[name] {
				return p, fmt.Sprintf("%q names {%s} twice", s, name)
			}
			seen[name] = true
			p.segs = append(p.segs, patSeg{param: name})
		case strings.ContainsAny(seg, "{}*"):
			return p, fmt.Sprintf("%q: segment %q mixes a parameter with text", s, seg)
		default:
			p.segs = append(p.segs, patSeg{lit: seg})
		}
	}
	return p, ""
}

// has reports whether the pattern names parameter name.
func (p *pathPattern) has(name string) bool {
	for _, s := range p.segs {
		if s.param == name {
			return true
		}
	}
	return false
}

// match reports whether path matches and returns the value of parameter
// name (when not empty) as a substring of path: it does not allocate.
func (p *pathPattern) match(path, name string) (bool, string) {
	if path == "" || path[0] != '/' {
		return false, ""
	}
	rem, done := path[1:], path == "/"
	var val string
	for i := range p.segs {
		if done {
			return false, ""
		}
		var cur string
		if j := strings.IndexByte(rem, '/'); j < 0 {
			cur, done = rem, true
		} else {
			cur, rem = rem[:j], rem[j+1:]
		}
		s := &p.segs[i]
		if s.param != "" {
			if cur == "" {
				return false, ""
			}
			if s.param == name {
				val = cur
			}
		} else if cur != s.lit {
			return false, ""
		}
	}
	return done || p.rest, val
}
