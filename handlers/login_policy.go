package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"portico/policyeditor"
	"portico/store"
	"portico/views"
)

// The portal's sign-in policy (DESIGN.md, Flows 1): a user-access policy
// attached to the portal itself (store.AttachPortal) is evaluated once the
// first factor has passed, through whichever connection, and before any
// session exists. Without one, sign-in is as it always was.
//
// Challenge at sign-in is met only by a second factor the user already has
// (a confirmed TOTP authenticator, for pool and federated users alike). A
// user without one is refused rather than offered enrolment on the spot:
// at this point they have shown one factor only, and letting them register
// an authenticator now would let whoever holds a stolen password pass the
// challenge with their own phone. (Launch may enrol on the spot because it
// runs inside a session that already passed the sign-in policy, and asks
// for the password again within the minute.) Such users set up two-step
// verification from a place the policy permits, or ask an administrator.
// The exception is an organization that requires a second factor at first
// sign-in (Organization.RequireMFA): its people enrol right after the first
// factor, before any session, which closes that window for everyone at
// once. A challenge the policy would deny even after step-up is refused at
// once, without asking for a code. Upstream MFA is not counted: Portico
// cannot verify it.

// signInDecision evaluates the portal's policy for u with the live request:
// address and country, groups, plan, attributes, remembered locations, the
// connection and when MFA was done (zero before the second factor). stepUp
// asks for the re-evaluation after a passed challenge. An Outcome with
// Applied false means no portal policy is attached.
func (h *Login) signInDecision(c echo.Context, u store.User, connectionID string, mfaAt time.Time, stepUp bool, methods []string) (policyeditor.Outcome, error) {
	if h.Policies == nil {
		return policyeditor.Outcome{}, nil
	}
	ctx := c.Request().Context()
	org, err := h.Store.Organization(ctx, u.OrgID)
	if err != nil {
		return policyeditor.Outcome{}, err
	}
	f, err := loadPolicyFacts(c, h.Store, h.Locator, org, u.ID)
	if err != nil {
		return policyeditor.Outcome{}, err
	}
	now := h.Now()
	ev := f.evaluation(policyeditor.PointSignIn, now, org, &u)
	ev.StepUp = stepUp
	ev.Request.User.MFAAt, ev.Request.User.ConnectionID = mfaAt, connectionID
	ev.Request.User.AuthMethods = methodTimes(methods, now)
	out, err := h.Policies.Decide(ctx, ev)
	if err != nil {
		return out, err
	}
	if out.Applied {
		h.Log.Info("sign-in decision", "user", u.ID, "action", out.Action.String(), "rule", out.Rule,
			"decision", out.DecisionID, "ip", c.RealIP(), "step_up", stepUp)
	}
	return out, nil
}

// signInRefused is the page for a sign-in the portal's policy denies: no
// session, and the decision's reference for an administrator.
func (h *Login) signInRefused(c echo.Context, out policyeditor.Outcome, needsMFA bool) error {
	h.metrics().SignIn("policy", "denied")
	p := h.Pages.Page(c, "Sign-in refused")
	p.Narrow = true
	return render(c, http.StatusForbidden, views.SignInDeniedPage(p, views.SignInDenied{Reference: out.DecisionID, NeedsMFA: needsMFA}))
}

// afterSecondFactor decides a fresh sign-in once the user passed TOTP: the
// policy sees the MFA just done; a Challenge is then met (AfterStepUp) and
// the location remembered. ok is false when the browser was refused.
func (h *Login) afterSecondFactor(c echo.Context, u store.User, connectionID string, now time.Time, methods []string) (ok bool, err error) {
	out, err := h.signInDecision(c, u, connectionID, now, false, methods)
	if err != nil || !out.Applied {
		return err == nil, err
	}
	if out.Action == policyeditor.Challenge {
		// The challenge is met: as at launch, the location is remembered
		// whatever the second decision says (DESIGN.md, Challenge).
		if err := rememberHere(c, h.Store, h.Locator, u.ID, now); err != nil {
			return false, err
		}
		if out, err = h.signInDecision(c, u, connectionID, now, true, methods); err != nil {
			return false, err
		}
	}
	if out.Action != policyeditor.Permit {
		return false, h.signInRefused(c, out, false)
	}
	return true, nil
}

// deniedAfterStepUp reports whether the portal's policy would refuse u even
// after a passed challenge. It asks the preview engine (nothing recorded)
// and records the decision only when it denies, for the refusal's
// reference.
func (h *Login) deniedAfterStepUp(c echo.Context, u store.User, connectionID string) (policyeditor.Outcome, bool, error) {
	if h.Preview == nil || h.Policies == nil {
		return policyeditor.Outcome{}, false, nil
	}
	ctx := c.Request().Context()
	org, err := h.Store.Organization(ctx, u.OrgID)
	if err != nil {
		return policyeditor.Outcome{}, false, err
	}
	f, err := loadPolicyFacts(c, h.Store, h.Locator, org, u.ID)
	if err != nil {
		return policyeditor.Outcome{}, false, err
	}
	now := h.Now()
	ev := f.evaluation(policyeditor.PointSignIn, now, org, &u)
	ev.StepUp = true
	ev.Request.User.MFAAt, ev.Request.User.ConnectionID = now, connectionID
	ev.Request.User.AuthMethods = methodTimes(firstFactor(connectionID), now)
	out, err := h.Preview.Decide(ctx, ev)
	if err != nil || !out.Applied || out.Action != policyeditor.Deny {
		return out, false, err
	}
	out, err = h.signInDecision(c, u, connectionID, now, true, firstFactor(connectionID))
	return out, err == nil && out.Applied && out.Action == policyeditor.Deny, err
}

// methodTimes is methods, all used at now, for a policy request.
func methodTimes(methods []string, now time.Time) map[string]time.Time {
	if len(methods) == 0 {
		return nil
	}
	m := make(map[string]time.Time, len(methods))
	for _, x := range methods {
		m[x] = now
	}
	return m
}
