package policyeditor

// Blame names, for people, what a decision turned on: the dashboard says
// "not available for your group" rather than "denied".
type Blame string

const (
	BlameNone    Blame = ""        // permitted, or nothing to say
	BlameGroup   Blame = "group"   // a group condition decided
	BlameNetwork Blame = "network" // an address, country or location condition decided
	BlameMFA     Blame = "mfa"     // a second factor is (or would be) asked for
	BlameOther   Blame = "other"   // some other condition, or the default
)

// Blame says what decision d (which p made for req) turned on. For a rule
// that denied, it is the kind of that rule's conditions; for the default,
// the condition that kept the first permitting rule from matching. Rego
// policies have no rules to look into: only a challenge is named.
func (p *Policy) Blame(req *Request, d Decision, stepUp bool) Blame {
	switch {
	case d.Action == Permit:
		return BlameNone
	case d.Action == Challenge:
		return BlameMFA
	case p.rego != nil:
		return BlameOther
	case d.Rule > 0 && d.Rule <= len(p.rules):
		for _, c := range p.rules[d.Rule-1].conds {
			if b := blameOf(c.kind); b != BlameOther {
				return b
			}
		}
		return BlameOther
	}
	// The rules that let people in are the permitting ones: a challenge
	// only adds a step on the way (and after step-up it is met).
	for i := range p.rules {
		r := &p.rules[i]
		if r.action != Permit {
			continue
		}
		if j := r.firstFailure(req, stepUp); j >= 0 {
			return blameOf(r.conds[j].kind)
		}
	}
	return BlameOther
}

func blameOf(k condKind) Blame {
	switch k {
	case kGroup:
		return BlameGroup
	case kIP, kCountry, kLocation:
		return BlameNetwork
	case kMFA, kAuthMethod:
		return BlameMFA
	}
	return BlameOther
}
