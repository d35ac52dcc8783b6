package policyeditor

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// compileCondition checks one condition and builds its evaluable form. Problems go
// to pr; the returned condition is only used when there are none.
func compileCondition(pr *problems, path string, c Condition, k Kind) condition {
	out := condition{negate: c.Negate}
	if c.Type == "" {
		pr.add(path+".type", "required")
		return out
	}
	if _, ok := conditionFields(c.Type); !ok {
		pr.add(path+".type", fmt.Sprintf("unknown condition type %q (one of %s)", c.Type, strings.Join(ConditionTypes(), ", ")))
		return out
	}
	for _, f := range c.setFields() {
		if !fieldAllowed(c.Type, f) {
			pr.add(path+"."+f, "unknown field for "+article(c.Type)+" condition")
		}
	}
	if k == KindMachineToMachine && (c.Type == CondGroup || c.Type == CondLocation || c.Type == CondMFA || c.Type == CondAuthMethod || c.Type == CondConnection) {
		pr.add(path+".type", fmt.Sprintf("a machine-to-machine request has no user, so %s would never hold", article(c.Type)+" condition"))
	}
	if k == KindAPIRequest && (c.Type == CondLocation || c.Type == CondMFA || c.Type == CondConnection) {
		pr.add(path+".type", fmt.Sprintf("an API request carries a token, not a sign-in session, so %s cannot be decided", article(c.Type)+" condition"))
	}
	var pos, neg string
	if s := condSpecs[c.Type]; s != nil {
		pos, neg = compileRegistered(pr, path, s, c, k, &out)
	}
	switch c.Type {
	case CondGroup:
		out.kind, out.missing = kGroup, "the user has no groups"
		out.names = nameList(pr, path+".any_of", c.AnyOf)
		pos, neg = "user is in any of "+list(c.AnyOf), "user is in none of "+list(c.AnyOf)
	case CondScope:
		out.kind, out.missing = kScope, "no scopes were requested"
		out.names = nameList(pr, path+".any_of", c.AnyOf)
		pos, neg = "requested scopes include any of "+list(c.AnyOf), "requested scopes include none of "+list(c.AnyOf)
	case CondOrg, CondPlan, CondClient:
		out.kind, out.missing = map3(c.Type)
		out.names = nameList(pr, path+".in", c.In)
		pos, neg = c.Type+" in "+list(c.In), c.Type+" not in "+list(c.In)
	case CondAttribute:
		out.kind, out.attr = kAttribute, c.Name
		out.missing = fmt.Sprintf("the request has no attribute %q", c.Name)
		if strings.TrimSpace(c.Name) == "" {
			pr.add(path+".name", "required")
		}
		out.names = nameList(pr, path+".in", c.In)
		pos, neg = fmt.Sprintf("attribute %s in %s", c.Name, list(c.In)), fmt.Sprintf("attribute %s not in %s", c.Name, list(c.In))
	case CondIP:
		out.kind, out.missing = kIP, "the request has no IP address"
		out.ips = ipList(pr, path+".in", c.In)
		pos, neg = "source IP in "+list(c.In), "source IP not in "+list(c.In)
	case CondCountry:
		out.kind, out.missing = kCountry, "the request has no country"
		out.countries = countryList(pr, path+".in", c.In)
		pos, neg = "country in "+list(c.In), "country not in "+list(c.In)
	case CondLocation:
		out.kind, out.missing = kLocation, "the request has no IP address"
		if !c.New {
			pr.add(path+".new", `must be true ("location is new"); for a remembered location add "negate": true`)
		}
		pos, neg = "location is new", "location is not new"
	case CondTime:
		out.kind, out.missing = kTime, "the request has no time"
		out.window = compileWindow(pr, path, c)
		pos = "time is " + describeWindow(c)
		neg = "time is not " + describeWindow(c)
	case CondMFA:
		out.kind, out.missing = kMFA, "the user has not done MFA"
		d, err := time.ParseDuration(c.Within)
		switch {
		case c.Within == "":
			pr.add(path+".within", "required")
		case err != nil:
			pr.add(path+".within", fmt.Sprintf(`%q is not a duration (such as "15m" or "12h")`, c.Within))
		case d <= 0:
			pr.add(path+".within", fmt.Sprintf("%q must be longer than zero", c.Within))
		}
		out.within = d
		pos, neg = "MFA within "+c.Within, "no MFA within "+c.Within
	case CondAuthMethod:
		out.kind, out.missing = kAuthMethod, "the request does not say how the user authenticated"
		out.names = newStringSet(checkItems(pr, path+".any_of", c.AnyOf, func(s string) string {
			if !slices.Contains(AuthMethods(), s) {
				return fmt.Sprintf("%q is not an authentication method (%s)", s, strings.Join(AuthMethods(), ", "))
			}
			return ""
		}))
		if c.Within != "" {
			d, err := time.ParseDuration(c.Within)
			switch {
			case err != nil:
				pr.add(path+".within", fmt.Sprintf(`%q is not a duration (such as "15m" or "12h")`, c.Within))
			case d <= 0:
				pr.add(path+".within", fmt.Sprintf("%q must be longer than zero", c.Within))
			}
			out.within = d
			pos, neg = "authenticated with any of "+list(c.AnyOf)+" within "+c.Within, "not authenticated with any of "+list(c.AnyOf)+" within "+c.Within
		} else {
			pos, neg = "authenticated with any of "+list(c.AnyOf), "not authenticated with any of "+list(c.AnyOf)
		}
	case CondPartnership:
		out.kind, out.missing = kPartnership, "the organization's partnership has no end date"
		d, msg := parseDays(c.EndsWithin)
		if msg != "" {
			pr.add(path+".ends_within", msg)
		}
		out.within = d
		pos, neg = "partnership ends within "+c.EndsWithin, "partnership does not end within "+c.EndsWithin
	case CondConnection:
		out.kind, out.missing = kConnection, "the request does not say which connection the user signed in through"
		out.names = nameList(pr, path+".in", c.In)
		pos, neg = "connection in "+list(c.In), "connection not in "+list(c.In)
	case CondClientType:
		out.kind, out.missing = kClientType, "the request has no client type"
		out.names = newStringSet(checkItems(pr, path+".in", c.In, func(s string) string {
			if !slices.Contains(ClientTypes(), s) {
				return fmt.Sprintf("%q is not a client type (%s)", s, strings.Join(ClientTypes(), ", "))
			}
			return ""
		}))
		pos, neg = "client type in "+list(c.In), "client type not in "+list(c.In)
	case CondIssuer:
		out.kind, out.missing = kIssuer, "the subject was not vouched for by a trusted issuer"
		out.names = newStringSet(checkItems(pr, path+".in", c.In, func(s string) string {
			if u, err := url.Parse(s); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
				return fmt.Sprintf("%q is not an issuer URL (such as https://login.partner.example)", s)
			}
			return ""
		}))
		pos, neg = "issuer in "+list(c.In), "issuer not in "+list(c.In)
	}
	out.text = pos
	if c.Negate {
		out.text = neg
	}
	return out
}

// parseDays reads ends_within: whole days as "30d", the natural unit for a
// partnership, or any Go duration ("36h"). The message is empty when s is valid.
func parseDays(s string) (time.Duration, string) {
	if s == "" {
		return 0, "required"
	}
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days > 100000 {
			return 0, fmt.Sprintf(`%q is not a number of days (such as "30d")`, s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Sprintf(`%q is not a number of days (such as "30d") or a duration (such as "72h")`, s)
		}
	}
	if d <= 0 {
		return 0, fmt.Sprintf("%q must be longer than zero", s)
	}
	return d, ""
}

func map3(typ string) (condKind, string) {
	switch typ {
	case CondOrg:
		return kOrg, "the request has no organization"
	case CondPlan:
		return kPlan, "the request has no plan"
	}
	return kClient, "the request has no client"
}

func list(items []string) string { return strings.Join(items, ", ") }

// checkItems reports an absent or empty list, empty or padded items and
// duplicates, and calls valid on the rest; it returns the items that passed.
func checkItems(pr *problems, path string, items []string, valid func(string) string) []string {
	if items == nil {
		pr.add(path, "required")
		return nil
	}
	if len(items) == 0 {
		pr.add(path, "must list at least one value")
		return nil
	}
	var ok []string
	seen := make(map[string]bool, len(items))
	for i, s := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case s == "":
			pr.add(p, "must not be empty")
		case strings.TrimSpace(s) != s:
			pr.add(p, fmt.Sprintf("%q has spaces around it", s))
		case seen[s]:
			pr.add(p, fmt.Sprintf("%q is listed twice", s))
		default:
			seen[s] = true
			if msg := valid(s); msg != "" {
				pr.add(p, msg)
				continue
			}
			ok = append(ok, s)
		}
	}
	return ok
}

func nameList(pr *problems, path string, items []string) stringSet {
	return newStringSet(checkItems(pr, path, items, func(string) string { return "" }))
}

func ipList(pr *problems, path string, items []string) prefixSet {
	var ps []netip.Prefix
	checkItems(pr, path, items, func(s string) string {
		p, ok := parseRange(s)
		if !ok {
			return fmt.Sprintf("%q is not an IP range", s)
		}
		ps = append(ps, p)
		return ""
	})
	return newPrefixSet(ps)
}

func countryList(pr *problems, path string, items []string) countrySet {
	var cs countrySet
	checkItems(pr, path, items, func(s string) string {
		if !IsCountryCode(s) {
			return fmt.Sprintf("%q is not an ISO 3166 alpha-2 country code%s", s, countryHint(s))
		}
		cs.add(s)
		return ""
	})
	return cs
}

func compileWindow(pr *problems, path string, c Condition) timeWindow {
	w := timeWindow{days: allDays}
	if c.Days != nil {
		w.days = 0
		checkItems(pr, path+".days", c.Days, func(s string) string {
			d, ok := parseDay(s)
			if !ok {
				return fmt.Sprintf("%q is not a day (mon, tue, wed, thu, fri, sat, sun)", s)
			}
			w.days |= 1 << d
			return ""
		})
	}
	clock := func(field, s string) int {
		m, ok := parseClock(s)
		if !ok {
			pr.add(path+"."+field, fmt.Sprintf(`%q is not a time of day "HH:MM" (00:00 to 23:59)`, s))
		}
		return m
	}
	switch {
	case c.From == "" && c.To == "":
		if c.Days == nil {
			pr.add(path, `a time condition needs days, or "from" and "to", or both`)
		}
	case c.From == "":
		pr.add(path+".from", `required with "to"`)
	case c.To == "":
		pr.add(path+".to", `required with "from"`)
	default:
		w.from, w.to = clock("from", c.From), clock("to", c.To)
		if c.From == c.To {
			pr.add(path+".to", `must differ from "from"; for whole days leave out both`)
		}
	}
	if c.TZ == "" {
		pr.add(path+".tz", `required (an IANA time zone such as "Europe/Berlin" or "UTC")`)
	} else if loc, ok := loadZone(c.TZ); !ok {
		pr.add(path+".tz", fmt.Sprintf("%q is not a known time zone", c.TZ))
	} else {
		w.loc = loc
	}
	return w
}

func describeWindow(c Condition) string {
	var parts []string
	if len(c.Days) > 0 {
		parts = append(parts, list(c.Days))
	}
	if c.From != "" || c.To != "" {
		parts = append(parts, c.From+"–"+c.To)
	}
	parts = append(parts, c.TZ)
	return strings.Join(parts, " ")
}
