package policyeditor

// Evaluate decides req: the first rule whose conditions all hold decides, else the
// default. It neither allocates nor retains req. A Challenge is not final: once the
// user has passed step-up MFA, ask again with AfterStepUp.
func (p *Policy) Evaluate(req *Request) Decision {
	return p.decide(req, false)
}

// AfterStepUp decides req again as it stands once the user has passed step-up MFA:
// MFA counts as done at req.Now and the request's location as remembered (the
// caller stores it as remembered too). A rule that challenges again counts as met,
// so the answer is Permit or Deny, and a Challenge never lets in someone the rest
// of the policy denies.
func (p *Policy) AfterStepUp(req *Request) Decision {
	return p.decide(req, true)
}

func (p *Policy) decide(req *Request, stepUp bool) Decision {
	if p.rego != nil {
		d := p.rego.decide(req, stepUp)
		if d.Action == Challenge && p.kind == KindMachineToMachine {
			d = Decision{Action: Deny, Reason: d.Reason + ", but a machine client cannot pass step-up MFA; denied"}
		}
		return d
	}
	for i := range p.rules {
		r := &p.rules[i]
		if r.firstFailure(req, stepUp) >= 0 {
			continue
		}
		if stepUp && r.action == Challenge && len(r.stepUpWith) == 0 {
			return Decision{Action: Permit, Rule: i + 1, Reason: r.stepUpMet}
		}
		// A rule demanding particular methods is met only by using them: the
		// caller records the step-up's method in req.User.AuthMethods, and
		// the rule no longer matches. Still matching, it challenges again.
		if r.action == Challenge {
			return Decision{Action: Challenge, Rule: i + 1, Reason: r.reason, StepUpWith: r.stepUpWith}
		}
		return Decision{Action: r.action, Rule: i + 1, Reason: r.reason}
	}
	if stepUp && p.def == Challenge {
		return Decision{Action: Permit, Reason: p.defaultStepUp}
	}
	return Decision{Action: p.def, Reason: p.defaultReason}
}

// firstFailure returns the index of the first condition that does not hold, or -1
// when all do.
func (r *rule) firstFailure(req *Request, stepUp bool) int {
	for j := range r.conds {
		c := &r.conds[j]
		holds, known := c.test(req, stepUp)
		if !known {
			holds = false // missing data never matches…
		}
		if holds == c.negate { // …and negate turns that into a match
			return j
		}
	}
	return -1
}

// test evaluates the condition before negate; known is false when the request
// lacks what the condition is about.
func (c *condition) test(req *Request, stepUp bool) (holds, known bool) {
	switch c.kind {
	case kGroup:
		return c.names.hasAny(req.User.Groups), len(req.User.Groups) > 0
	case kScope:
		return c.names.hasAny(req.Client.Scopes), len(req.Client.Scopes) > 0
	case kOrg:
		return c.names.has(req.Org), req.Org != ""
	case kPlan:
		return c.names.has(req.Plan), req.Plan != ""
	case kClient:
		return c.names.has(req.Client.ID), req.Client.ID != ""
	case kConnection:
		return c.names.has(req.User.ConnectionID), req.User.ConnectionID != ""
	case kClientType:
		return c.names.has(req.Client.Type), req.Client.Type != ""
	case kIssuer:
		return c.names.has(req.Issuer), req.Issuer != ""
	case kPartnership:
		if req.ValidUntil.IsZero() || req.Now.IsZero() {
			return false, false
		}
		// A partnership already over has certainly ended "within" the window.
		return req.ValidUntil.Sub(req.Now) <= c.within, true
	case kAttribute:
		v, ok := req.Attributes[c.attr]
		return ok && c.names.has(v), ok
	case kIP:
		if !req.IP.IsValid() {
			return false, false
		}
		return c.ips.contains(req.IP), true
	case kCountry:
		return c.countries.has(req.Country), req.Country != ""
	case kLocation:
		loc := LocationOf(req.IP)
		if !loc.IsValid() {
			return false, false
		}
		// After step-up the current location is being remembered.
		return !stepUp && !locationKnown(loc, req.User.Locations), true
	case kTime:
		if req.Now.IsZero() {
			return false, false
		}
		return c.window.holds(req.Now), true
	case kAuthMethod:
		if len(req.User.AuthMethods) == 0 {
			return false, false
		}
		for m, at := range req.User.AuthMethods {
			// A time slightly ahead of Now (clock skew between nodes) counts as fresh.
			if c.names.has(m) && (c.within == 0 || (!req.Now.IsZero() && req.Now.Sub(at) <= c.within)) {
				return true, true
			}
		}
		return false, true
	case kMethod:
		return evalMethod(c, req)
	case kPath:
		return evalPath(c, req)
	case kHost:
		return evalHost(c, req)
	case kAPI:
		return evalAPI(c, req)
	case kFeature:
		return evalFeature(c, req)
	case kTokenAge:
		return evalTokenAge(c, req)
	case kSenderConstrained:
		return evalSenderConstrained(req)
	case kParamInAttribute:
		return evalParamInAttribute(c, req)
	case kMFA:
		at := req.User.MFAAt
		if stepUp {
			at = req.Now
		}
		if at.IsZero() || req.Now.IsZero() {
			return false, false
		}
		// An MFA time slightly ahead of Now (clock skew between nodes) counts as fresh.
		return req.Now.Sub(at) <= c.within, true
	}
	return false, false
}
