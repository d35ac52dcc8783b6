package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/labstack/echo/v4"

	"portico/policyeditor"
	"portico/store"
	"portico/views"
)

// Launch opens an app from the dashboard. The app's user-access policy (or
// the portal's) decides with the live request: Permit sends the browser to
// the app's launch URL as an OpenID Connect third-party initiated login,
// Challenge runs step-up MFA (enrolling a factor on the spot if needed),
// remembers the location and decides again, Deny shows a page with the
// decision's reference.
type Launch struct {
	// apps caches launchable's answers (launch_cache.go).
	apps  launchableCache
	Store *store.Store
	Pages *Pages
	// Policies decides and records; Preview decides without recording, for
	// the dashboard's badges. Either may be nil: then no policy applies.
	Policies *policyeditor.Engine
	Preview  *policyeditor.Engine
	Locator  policyeditor.Locator
	Sealer   *store.Sealer
	Sessions *Sessions // rotates the session token at step-up
	Issuer   string
	Now      func() time.Time
	Log      *slog.Logger
	// Sleep waits by the delay schedule after a wrong code; nil is a real
	// wait. Mailer, when set, tells people about on-the-spot enrolments.
	Sleep  func(ctx context.Context, d time.Duration)
	Mailer SecurityMailer
	// RP is the WebAuthn relying party (passkeys); nil turns passkeys off.
	RP *webauthn.WebAuthn
	// Metrics counts step-up lockouts; nil counts nothing.
	Metrics Metrics

	// opened caches app's answers (launch_apps.go); touched paces the
	// location touch (launch_touch.go).
	opened  launchApps
	touched touchedLocations
}

func (h *Launch) lockout() {
	if h.Metrics != nil {
		h.Metrics.Lockout("second_factor")
	}
}

// Mount registers the routes.
func (h *Launch) Mount(g *echo.Group) {
	l := g.Group("/launch", requireUser)
	l.GET("/:client_id", h.launch)
	l.GET("/:client_id/verify", h.showStepUp)
	l.POST("/:client_id/verify", h.verify)
	l.POST("/:client_id/passkey/begin", h.beginPasskey)
	l.POST("/:client_id/passkey", h.verifyPasskey)
}

// launchable lists the apps the viewer's organization may open, by name: its
// own enabled apps that have a launch URL, and those other organizations
// (the platform) share with it, with everyone or with its plan.
//
// The list is cached per organization and plan while the store's data
// version is unchanged (any committed change to clients or shares changes
// it, here or on another replica): reading and decoding every client of the
// organization was three quarters of the dashboard's own CPU. The caller
// reads the version (dv; known is false when it could not, and then nothing
// is cached) before this reads anything, so a change made meanwhile is seen
// next time; the dashboard asks once for all its caches.
func (h *Launch) launchable(ctx context.Context, v *Viewer, dv int64, known bool) ([]store.Client, error) {
	key := launchableKey{org: v.Org.ID, plan: v.Org.PlanID}
	if known {
		if apps, ok := h.apps.get(key, dv); ok {
			return apps, nil
		}
	}
	apps, err := h.loadLaunchable(ctx, v)
	if err == nil && known {
		h.apps.put(key, dv, apps)
	}
	return apps, err
}

func (h *Launch) loadLaunchable(ctx context.Context, v *Viewer) ([]store.Client, error) {
	own, err := h.Store.OrgClients(ctx, v.Org.ID) // no secrets: the dashboard never shows them
	if err != nil {
		return nil, err
	}
	shared, err := h.Store.SharedClients(ctx, v.Org.ID, v.Org.PlanID)
	if err != nil {
		return nil, err
	}
	var out []store.Client
	for _, c := range append(own, shared...) {
		if launchableApp(c) {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// launchableApp reports whether people can open c from the dashboard.
func launchableApp(c store.Client) bool {
	return c.Enabled && c.LaunchURL != "" && c.Type != store.ClientService
}

// app loads a launchable app of the viewer's organization or one shared
// with it; anything else, including another organization's unshared app,
// is not found.
func (h *Launch) app(c echo.Context, v *Viewer) (store.Client, error) {
	ctx, id := c.Request().Context(), c.Param("client_id")
	return h.opened.get(ctx, h.Store, launchAppKey{org: v.Org.ID, plan: v.Org.PlanID, clientID: id}, func() (store.Client, error) {
		cl, err := h.Store.ClientByClientID(ctx, v.Org.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			cl, err = h.Store.SharedClient(ctx, v.Org.ID, v.Org.PlanID, id)
		}
		if err != nil {
			return store.Client{}, err
		}
		if !launchableApp(cl) {
			return store.Client{}, store.ErrNotFound
		}
		cl.Secrets = nil // a launch never needs them; the cache does not keep them
		return cl, nil
	})
}

// evaluation is the policy question for this viewer, app and request.
func (h *Launch) evaluation(v *Viewer, app store.Client, f policyFacts, stepUp bool) *policyeditor.Evaluation {
	ev := f.evaluation(policyeditor.PointLaunch, h.Now(), v.Org, &v.User)
	ev.ClientID, ev.ClientPolicyID, ev.StepUp = app.ClientID, app.PolicyID, stepUp
	ev.Request.User.MFAAt, ev.Request.User.ConnectionID = v.Session.MFAAt, v.Session.ConnectionID
	ev.Request.User.AuthMethods = f.methods
	ev.Request.Client = policyeditor.Client{ID: app.ClientID, Scopes: app.Scopes, Type: string(app.Type)}
	return ev
}

// facts loads the viewer's policy facts for this request.
func (h *Launch) facts(c echo.Context, v *Viewer) (policyFacts, error) {
	f, err := loadPolicyFacts(c, h.Store, h.Locator, v.Org, v.User.ID)
	if err != nil {
		return f, err
	}
	a, err := loadSessionAuth(c.Request().Context(), h.Store, v.Session)
	f.methods = sessionMethods(a, v.Session)
	return f, err
}

// decide evaluates and records a launch decision.
func (h *Launch) decide(c echo.Context, v *Viewer, app store.Client, stepUp bool) (policyeditor.Outcome, error) {
	if h.Policies == nil {
		return policyeditor.Outcome{Decision: policyeditor.Decision{Action: policyeditor.Permit}}, nil
	}
	f, err := h.facts(c, v)
	if err != nil {
		return policyeditor.Outcome{}, err
	}
	out, err := h.Policies.Decide(c.Request().Context(), h.evaluation(v, app, f, stepUp))
	if err != nil {
		return out, err
	}
	if !out.Applied {
		out.Action = policyeditor.Permit
	}
	h.Log.Info("launch decision", "user", v.User.ID, "client", app.ClientID, "action", out.Action.String(),
		"rule", out.Rule, "decision", out.DecisionID, "ip", c.RealIP(), "step_up", stepUp)
	return out, nil
}

func (h *Launch) launch(c echo.Context) error {
	v := viewerFrom(c)
	app, err := h.app(c, v)
	if err != nil {
		return err
	}
	out, err := h.decide(c, v, app, false)
	if err != nil {
		return err
	}
	if out.Action == policyeditor.Challenge {
		if denied, ok, err := h.deniedAfterStepUp(c, v, app); err != nil || ok {
			if err != nil {
				return err
			}
			return h.act(c, v, app, denied)
		}
	}
	return h.act(c, v, app, out)
}

// deniedAfterStepUp reports whether the policy would deny v even after a
// passed step-up; then nobody is asked for (or made to enrol) a second
// factor only to be refused. The question is asked of the preview engine
// first, and recorded (for the deny page's reference) only when it denies.
func (h *Launch) deniedAfterStepUp(c echo.Context, v *Viewer, app store.Client) (policyeditor.Outcome, bool, error) {
	if h.Preview == nil || h.Policies == nil {
		return policyeditor.Outcome{}, false, nil
	}
	f, err := h.facts(c, v)
	if err != nil {
		return policyeditor.Outcome{}, false, err
	}
	out, err := h.Preview.Decide(c.Request().Context(), h.evaluation(v, app, f, true))
	if err != nil || !out.Applied || out.Action != policyeditor.Deny {
		return out, false, err
	}
	out, err = h.decide(c, v, app, true)
	return out, err == nil && out.Action == policyeditor.Deny, err
}

// act carries out a decision.
func (h *Launch) act(c echo.Context, v *Viewer, app store.Client, out policyeditor.Outcome) error {
	switch out.Action {
	case policyeditor.Permit:
		if ip, _ := clientAddress(c, nil); ip.IsValid() {
			// Using a remembered network keeps it from being the one
			// dropped; once per locationTouchEvery is enough for that.
			network, now := policyeditor.LocationOf(ip), h.Now()
			if h.touched.due(v.User.ID, network, now) {
				if err := h.Store.TouchLocation(c.Request().Context(), v.User.ID, network, now); err == nil {
					h.touched.done(v.User.ID, network, now)
				}
			}
		}
		return c.Redirect(http.StatusSeeOther, h.initiateLogin(app, v))
	case policyeditor.Challenge:
		return c.Redirect(http.StatusSeeOther, "/launch/"+url.PathEscape(app.ClientID)+"/verify")
	}
	p := h.Pages.Page(c, "Access denied")
	return render(c, http.StatusForbidden, views.LaunchDeniedPage(p, views.LaunchDenied{AppName: app.Name, Reference: out.DecisionID}))
}

func (h *Launch) sleep() sleeper {
	if h.Sleep == nil {
		return sleepCtx
	}
	return h.Sleep
}

// initiateLogin is the app's launch URL with the OpenID Connect third-party
// initiated login parameters, so the app starts its own authorization-code
// flow at this issuer (where the same policy decides again).
func (h *Launch) initiateLogin(app store.Client, v *Viewer) string {
	u, err := url.Parse(app.LaunchURL)
	if err != nil {
		return app.LaunchURL
	}
	q := u.Query()
	q.Set("iss", h.Issuer)
	q.Set("target_link_uri", app.LaunchURL)
	q.Set("login_hint", v.User.Email)
	u.RawQuery = q.Encode()
	return u.String()
}

// stepUpNeeds is what the policy's challenge asks the step-up to use
// (StepUpWith); nil means any second factor.
func (h *Launch) stepUpNeeds(c echo.Context, v *Viewer, app store.Client) ([]string, error) {
	eng := h.Preview
	if eng == nil {
		return nil, nil
	}
	f, err := h.facts(c, v)
	if err != nil {
		return nil, err
	}
	out, err := eng.Decide(c.Request().Context(), h.evaluation(v, app, f, false))
	return stepUpWith(out), err
}

// stepUpProps fills the step-up page: the person's passkeys, the code
// form (hidden where only a passkey counts), and for a user without any
// factor a pending TOTP secret to enrol.
func (h *Launch) stepUpProps(c echo.Context, v *Viewer, app store.Client) (views.StepUp, error) {
	ctx := c.Request().Context()
	s := views.StepUp{AppName: app.Name, ClientID: app.ClientID}
	esc := url.PathEscape(app.ClientID)
	s.Passkey = views.PasskeyCeremony{ID: "passkey-stepup", Mode: "get", Begin: "/launch/" + esc + "/passkey/begin",
		Action: "/launch/" + esc + "/passkey", Label: "Use my passkey"}
	n, err := h.Store.CountPasskeys(ctx, v.User.ID)
	if err != nil {
		return s, err
	}
	needs, err := h.stepUpNeeds(c, v, app)
	if err != nil {
		return s, err
	}
	s.HasPasskey = n > 0 && h.RP != nil
	s.NoTOTP = passkeyOnly(needs) || v.Org.RequirePasskey
	if n > 0 || s.NoTOTP {
		return s, nil
	}
	e, enrolled, err := totpEnrollment(ctx, h.Store, h.Sealer, v.User)
	if err != nil || enrolled {
		return s, err
	}
	s.Enroll, s.QRDataURL, s.Secret = true, e.QRDataURL, e.Secret
	s.Reauth, err = reauthProps(c, h.Store, v, "/launch/"+url.PathEscape(app.ClientID)+"/verify", h.Now())
	return s, err
}

func (h *Launch) showStepUp(c echo.Context) error {
	v := viewerFrom(c)
	app, err := h.app(c, v)
	if err != nil {
		return err
	}
	if denied, ok, err := h.deniedAfterStepUp(c, v, app); err != nil || ok {
		if err != nil {
			return err
		}
		return h.act(c, v, app, denied)
	}
	s, err := h.stepUpProps(c, v, app)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.StepUpPage(h.Pages.Page(c, "Confirm it's you"), s))
}

// verify checks the second factor (enrolling it if pending), marks the
// session as stepped up, remembers the location and decides again: the
// second decision stands, except that a second Challenge counts as met.
func (h *Launch) verify(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	app, err := h.app(c, v)
	if err != nil {
		return err
	}
	if denied, ok, err := h.deniedAfterStepUp(c, v, app); err != nil || ok {
		if err != nil {
			return err
		}
		return h.act(c, v, app, denied)
	}
	s, err := h.stepUpProps(c, v, app)
	if err != nil {
		return err
	}
	now := h.Now()
	page := func(status int, msg string) error {
		if s2, err := h.stepUpProps(c, v, app); err == nil { // a password just typed may count as fresh now
			s = s2
		}
		s.Error = msg
		return render(c, status, views.StepUpPage(h.Pages.Page(c, "Confirm it's you"), s))
	}
	if s.Enroll {
		// Enrolling here meets the challenge, so it needs the first factor
		// again: a session alone must not be enough to add an authenticator.
		if fail, err := checkReauth(c, h.Store, h.sleep(), v, now); err != nil {
			return err
		} else if fail != nil {
			return page(fail.Status, fail.Message)
		}
	}
	code := c.FormValue("code")
	check := func() (bool, error) { return checkSecondFactor(ctx, h.Store, h.Sealer, v.User.ID, code, now) }
	switch {
	case s.NoTOTP:
		check = func() (bool, error) { return checkRecoveryCode(ctx, h.Store, v.User.ID, code) }
	case s.Enroll:
		check = totpStepCheck(ctx, h.Store, v.User.ID, s.Secret, code, now)
	}
	res, err := factorAttempt(ctx, h.Store, h.sleep(), v.User.ID, now, check)
	if err != nil {
		return err
	}
	if !res.OK {
		h.Log.Info("step-up code failed", "user", v.User.ID, "client", app.ClientID, "ip", c.RealIP(), "locked", !res.LockedUntil.IsZero())
		if !res.LockedUntil.IsZero() {
			h.lockout()
			return page(http.StatusTooManyRequests, msgFactorLocked(res.LockedUntil))
		}
		return page(http.StatusUnprocessableEntity, "That code is not valid. Check the time on your phone and try the next code.")
	}
	var codes []string
	if s.Enroll {
		var hashes []string
		codes, hashes = newRecoveryCodes()
		change := factorChange{Added: true, Where: "step-up", IP: c.RealIP()}
		err := h.Store.InTx(ctx, func(tx *store.Store) error {
			if err := tx.ReplaceRecoveryCodes(ctx, v.User.ID, hashes); err != nil {
				return err
			}
			return auditFactorChange(ctx, tx, actorOf(v), v.User, change)
		})
		if err != nil {
			return err
		}
		notifyFactorChange(h.Mailer, h.Log, v.User, change, now)
	}
	return h.steppedUp(c, v, app, s, []string{"otp"}, codes, now)
}

// steppedUp records the passed step-up (its amr: methods) in the session,
// remembers the location and decides again: the second decision stands,
// except that a second Challenge counts as met unless it names methods the
// step-up did not use (a policy that wants a passkey is not met by a code).
func (h *Launch) steppedUp(c echo.Context, v *Viewer, app store.Client, s views.StepUp, methods, codes []string, now time.Time) error {
	ctx := c.Request().Context()
	if err := h.Store.SetSessionMFA(ctx, v.Session.ID, now); err != nil {
		return err
	}
	if err := recordAuth(c, h.Store, v.Session.ID, now, methods); err != nil {
		return err
	}
	v.Session.MFAAt = now
	if err := h.Sessions.Rotate(c); err != nil { // the stepped-up session gets a new token
		return err
	}
	if err := rememberHere(c, h.Store, h.Locator, v.User.ID, now); err != nil {
		return err
	}
	out, err := h.decide(c, v, app, true)
	if err != nil {
		return err
	}
	if out.Action == policyeditor.Challenge {
		if passkeyOnly(out.StepUpMethods()) {
			if s2, err := h.stepUpProps(c, v, app); err == nil {
				s = s2
			}
			s.Error = "This app needs a passkey: a code does not count here."
			if !s.HasPasskey {
				s.Error = msgNeedsPasskey
			}
			return render(c, http.StatusForbidden, views.StepUpPage(h.Pages.Page(c, "Confirm it's you"), s))
		}
		out.Action = policyeditor.Permit // AfterStepUp already treats it so; kept for a policy-less path
	}
	if len(codes) > 0 {
		// The codes were just made and exist nowhere else: they are shown
		// whatever the decision. A permit continues to the app; anything
		// else continues to the launch, which decides again and says why.
		s.RecoveryCodes, s.Continue = codes, h.initiateLogin(app, v)
		if out.Action != policyeditor.Permit {
			s.Continue = "/launch/" + url.PathEscape(app.ClientID)
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return render(c, http.StatusOK, views.StepUpPage(h.Pages.Page(c, "Recovery codes"), s))
	}
	return h.act(c, v, app, out)
}

// beginPasskey answers the options for a step-up with the viewer's
// passkeys, bound to the session.
func (h *Launch) beginPasskey(c echo.Context) error {
	v := viewerFrom(c)
	if _, err := h.app(c, v); err != nil {
		return err
	}
	if h.RP == nil {
		return ceremonyJSON(c, http.StatusNotFound, ceremony{}, msgPasskeyOff)
	}
	cer, err := beginAssertion(c.Request().Context(), h.Store, h.RP, &v.User, v.Session.ID, purposeStepUp, h.Now())
	if errors.Is(err, errCeremony) {
		return ceremonyJSON(c, http.StatusBadRequest, ceremony{}, "You have no passkey yet. Add one under Passkeys in your account.")
	}
	if err != nil {
		return err
	}
	return ceremonyJSON(c, http.StatusOK, cer, "")
}

// verifyPasskey meets the step-up with a passkey (one attempt on the
// user's second-factor counter), then decides again as after a code.
func (h *Launch) verifyPasskey(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	app, err := h.app(c, v)
	if err != nil {
		return err
	}
	if denied, ok, err := h.deniedAfterStepUp(c, v, app); err != nil || ok {
		if err != nil {
			return err
		}
		return h.act(c, v, app, denied)
	}
	s, err := h.stepUpProps(c, v, app)
	if err != nil {
		return err
	}
	page := func(status int, msg string) error {
		s.Error = msg
		return render(c, status, views.StepUpPage(h.Pages.Page(c, "Confirm it's you"), s))
	}
	if h.RP == nil {
		return page(http.StatusNotFound, msgPasskeyOff)
	}
	now := h.Now()
	_, sd, err := takeCeremony(ctx, h.Store, c.FormValue("challenge"), v.Session.ID, purposeStepUp, now)
	if errors.Is(err, errCeremony) {
		return page(http.StatusBadRequest, msgPasskeyNotTaken)
	}
	if err != nil {
		return err
	}
	a, res, err := passkeyCheck(ctx, h.Store, h.RP, h.sleep(), h.Log, v.User, false, sd, []byte(c.FormValue("credential")), c.RealIP(), now)
	if err != nil {
		return err
	}
	if !res.LockedUntil.IsZero() {
		h.lockout()
		return page(http.StatusTooManyRequests, msgFactorLocked(res.LockedUntil))
	}
	if !res.OK {
		return page(http.StatusUnauthorized, "That passkey could not be used. Try again.")
	}
	h.Log.Info("step-up with a passkey", "user", v.User.ID, "client", app.ClientID, "passkey", a.Passkey.ID, "ip", c.RealIP())
	return h.steppedUp(c, v, app, s, a.AMR, nil, now)
}
