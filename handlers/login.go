package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/labstack/echo/v4"

	"portico/federation"
	"portico/federation/pool"
	"portico/policyeditor"
	"portico/store"
	"portico/views"
)

// Login serves identifier-first sign-in: the email's domain finds the
// organization and its connections; upstream IdPs are left for and
// returned from through a pending sign-in found by its state; identity-pool
// passwords are checked here with throttling, lockout and TOTP.
type Login struct {
	Store       *store.Store
	Sessions    *Sessions
	Pages       *Pages
	Log         *slog.Logger
	Now         func() time.Time
	Sealer      *store.Sealer
	Connectors  *federation.Cache
	Provisioner *federation.Provisioner
	Completer   LoginCompleter
	// Policies decides sign-in with the portal's policy; nil means none.
	// Preview asks the same without recording.
	Policies *policyeditor.Engine
	Preview  *policyeditor.Engine
	Locator  policyeditor.Locator
	// Sleep waits by the delay schedule after a failure; nil is a real wait.
	Sleep func(ctx context.Context, d time.Duration)
	// Mailer, when set, tells people about second factors enrolled at
	// sign-in.
	Mailer SecurityMailer
	// RP is the WebAuthn relying party (passkeys); nil turns passkeys off.
	RP *webauthn.WebAuthn
	// BaseURL is the portal's public URL, for links in mail.
	BaseURL string
	// Metrics counts sign-ins and lockouts; nil counts nothing.
	Metrics Metrics
}

func (h *Login) metrics() Metrics {
	if h.Metrics == nil {
		return noMetrics{}
	}
	return h.Metrics
}

// dummyHash makes a sign-in for an unknown email cost as much as one for a
// known email, so timing does not reveal which accounts exist. It is a
// constant with HashPassword's parameters (a test keeps them equal), so it
// costs nothing to make and the first unknown email is not slower.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$Kq8t6M/XqtdF0FMQb8J/qA$GVxP2tqQsgulY1dWb2KDQQCDTTZLBzSY+SQ+7At93jo"

// unknownAccountCheck spends what checking a real password would.
func (h *Login) unknownAccountCheck(password string) {
	pool.CheckPassword(dummyHash, password)
}

// Mount registers the sign-in routes.
func (h *Login) Mount(g *echo.Group) {
	if h.Sleep == nil {
		h.Sleep = sleepCtx
	}
	g.GET("/login", h.show)
	g.POST("/login", h.submit)
	g.POST("/login/start", h.start)
	g.GET(CallbackPath, h.callback)
	g.POST(SAMLACSPath, h.samlACS)
	g.GET(samlMetadataPath+":id", h.samlMetadata)
	g.GET("/login/mfa", h.showMFA)
	g.POST("/login/mfa", h.submitMFA)
	g.POST("/login/passkey/begin", h.beginPasskeySignIn)
	g.POST("/login/passkey", h.passkeySignIn)
	g.POST("/login/mfa/passkey/begin", h.beginPasskeyFactor)
	g.POST("/login/mfa/passkey", h.passkeyFactor)
	g.GET("/login/forgot", h.showForgot)
	g.POST("/login/forgot", h.submitForgot)
	g.GET("/login/reset", h.showReset)
	g.POST("/login/reset", h.submitReset)
	g.POST("/logout", h.logout)
}

const (
	msgBadCredentials = "The email or password is incorrect."
	msgOptionBroken   = "This sign-in option is not working right now. Please try again later or ask your administrator."
	msgOptionGone     = "This sign-in option is not available."
)

func (h *Login) show(c echo.Context) error {
	f := views.LoginForm{Stage: views.StageEmail, AuthRequest: c.QueryParam("auth_request"), Next: c.QueryParam("next"),
		Email: strings.TrimSpace(c.QueryParam("login_hint"))}
	if v := viewerFrom(c); v != nil {
		if f.AuthRequest == "" {
			return c.Redirect(http.StatusSeeOther, safeNext(f.Next))
		}
		// Already signed in: single sign-on into the app, unless it wants a
		// fresher sign-in than this session.
		err := h.afterSession(c, v.User, v.Session, f.AuthRequest, f.Next)
		if !errors.Is(err, ErrReauthenticationRequired) {
			return err
		}
	}
	return h.render(c, http.StatusOK, f)
}

func (h *Login) render(c echo.Context, status int, f views.LoginForm) error {
	if f.Stage == "" {
		f.Stage = views.StageEmail
	}
	if f.Stage == views.StageEmail {
		if list, err := h.Store.LoginListConnections(c.Request().Context()); err == nil {
			for _, x := range list {
				f.SignInWith = append(f.SignInWith, views.LoginChoice{ID: x.ID, Name: x.Name})
			}
		}
	}
	if d, ok := h.Completer.(ClientDescriber); ok && f.AuthRequest != "" {
		if u, ok := d.UnverifiedClient(c.Request().Context(), f.AuthRequest); ok {
			f.Unverified = &u
		}
	}
	p := h.Pages.Page(c, "Sign in")
	p.Narrow = true
	return render(c, status, views.Login(p, f))
}

func (h *Login) form(c echo.Context) views.LoginForm {
	return views.LoginForm{
		Email:       strings.TrimSpace(strings.ToLower(c.FormValue("email"))),
		AuthRequest: c.FormValue("auth_request"),
		Next:        c.FormValue("next"),
		Connection:  c.FormValue("connection"),
	}
}

func (h *Login) submit(c echo.Context) error {
	f := h.form(c)
	if c.FormValue("stage") == "password" || c.FormValue("password") != "" {
		return h.password(c, f, c.FormValue("password"))
	}
	return h.identify(c, f)
}

// identify is the first step: the email's domain decides where to go.
func (h *Login) identify(c echo.Context, f views.LoginForm) error {
	ctx := c.Request().Context()
	if a, err := mail.ParseAddress(f.Email); err != nil || a.Address != f.Email {
		f.Error = "Enter your email address."
		return h.render(c, http.StatusUnprocessableEntity, f)
	}
	orgID, conns, err := h.orgConnections(ctx, f.Email)
	if err != nil {
		return err
	}
	// People who signed in with a password before the organization added
	// a connection keep that way in until a federated sign-in links their
	// account (by verified email): while any of them is left, the page
	// offers the password beside the connections. The rule is the
	// organization's, never the address's, so it tells nobody whether an
	// account exists.
	keepPasswords := false
	if len(conns) > 0 {
		n, err := h.Store.UnlinkedPasswordUsers(ctx, orgID)
		if err != nil {
			return err
		}
		keepPasswords = n > 0
	}
	switch {
	case len(conns) == 0 || (keepPasswords && c.FormValue("use_password") == "1"):
		f.Stage = views.StagePassword
		return h.render(c, http.StatusOK, f)
	case len(conns) == 1 && !keepPasswords:
		return h.begin(c, f, conns[0])
	}
	f.Stage, f.PasswordChoice = views.StageChoose, keepPasswords
	for _, x := range conns {
		f.Choices = append(f.Choices, views.LoginChoice{ID: x.ID, Name: x.Name})
	}
	return h.render(c, http.StatusOK, f)
}

// orgConnections returns the organization that owns the email's domain
// and its enabled connections; none for an unknown domain.
func (h *Login) orgConnections(ctx context.Context, email string) (string, []store.Connection, error) {
	org, err := h.Store.OrganizationByDomain(ctx, domainOf(email))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	all, err := h.Store.Connections(ctx, org.ID)
	if err != nil {
		return "", nil, err
	}
	var out []store.Connection
	for _, x := range all {
		if x.Enabled {
			out = append(out, x)
		}
	}
	return org.ID, out, nil
}

func domainOf(email string) string {
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		return email[at+1:]
	}
	return ""
}

// chosenConnection loads the connection a form names, and accepts it only
// if it belongs to the organization of the email's domain or is listed on
// the sign-in page: a form cannot send anyone through another
// organization's connection.
func (h *Login) chosenConnection(ctx context.Context, id, email string) (store.Connection, bool, error) {
	x, err := h.Store.ConnectionByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return x, false, nil
	}
	if err != nil || !x.Enabled {
		return x, false, err
	}
	if x.ShowOnLogin {
		return x, true, nil
	}
	org, err := h.Store.OrganizationByDomain(ctx, domainOf(email))
	if errors.Is(err, store.ErrNotFound) {
		return x, false, nil
	}
	return x, err == nil && org.ID == x.OrgID, err
}

// start begins sign-in through the connection chosen on the page.
func (h *Login) start(c echo.Context) error {
	f := h.form(c)
	x, ok, err := h.chosenConnection(c.Request().Context(), f.Connection, f.Email)
	if err != nil {
		return err
	}
	if !ok {
		f.Error = msgOptionGone
		return h.render(c, http.StatusNotFound, f)
	}
	return h.begin(c, f, x)
}

// begin sends the browser to the connection, or asks for a password.
func (h *Login) begin(c echo.Context, f views.LoginForm, x store.Connection) error {
	ctx := c.Request().Context()
	conn, err := h.Connectors.Open(ctx, x)
	if err != nil {
		h.Log.Error("opening connection failed", "connection", x.ID, "org", x.OrgID, "err", err)
		f.Error = msgOptionBroken
		return h.render(c, http.StatusBadGateway, f)
	}
	switch conn := conn.(type) {
	case federation.IdentityPool:
		f.Stage, f.Connection = views.StagePassword, ""
		return h.render(c, http.StatusOK, f)
	case federation.PasswordConnector:
		f.Stage, f.Connection, f.ConnectionName = views.StagePassword, x.ID, x.Name
		return h.render(c, http.StatusOK, f)
	case federation.CallbackConnector:
		state := newToken()
		to, data, err := conn.LoginURL(ctx, state)
		if err != nil {
			h.Log.Error("starting upstream sign-in failed", "connection", x.ID, "err", err)
			f.Error = msgOptionBroken
			return h.render(c, http.StatusBadGateway, f)
		}
		p := store.PendingLogin{ID: store.NewID(), StateHash: hashToken(state), BrowserHash: h.browserBinding(c),
			OrgID: x.OrgID, ConnectionID: x.ID, AuthRequest: f.AuthRequest, Next: f.Next, ExpiresAt: h.Now().Add(pendingFor)}
		p.ConnData = h.Sealer.Seal(data, pendingPurpose(p.ID))
		if err := h.Store.CreatePendingLogin(ctx, &p); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, to)
	}
	h.Log.Error("connection type has no sign-in", "connection", x.ID, "type", x.Type)
	f.Error = msgOptionBroken
	return h.render(c, http.StatusBadGateway, f)
}

func (h *Login) logout(c echo.Context) error {
	h.Sessions.End(c)
	return c.Redirect(http.StatusSeeOther, "/login")
}

// safeNext keeps post-sign-in redirects inside the portal: a local path
// (isLocalPath, as logout checks it), else the dashboard.
func safeNext(next string) string {
	if !isLocalPath(next) {
		return "/"
	}
	return next
}

// signInError maps a federation error to a fixed message and a status;
// the details go to the log.
func (h *Login) signInError(c echo.Context, f views.LoginForm, x store.Connection, err error) error {
	status, msg := http.StatusBadRequest, ""
	switch {
	case errors.Is(err, federation.ErrUpstream):
		msg = "Your identity provider's answer could not be verified. Please try signing in again."
	case errors.Is(err, federation.ErrOtherOrgDomain):
		status, msg = http.StatusForbidden, "Your email address belongs to another organization, so you cannot sign in this way."
	case errors.Is(err, federation.ErrUnverifiedLink):
		status, msg = http.StatusForbidden, "An account with this email already exists, and your identity provider did not confirm the address. Ask your administrator."
	case errors.Is(err, federation.ErrPrivilegedLink):
		status, msg = http.StatusForbidden, "An account with this email already exists and cannot be linked to an identity provider this way. Sign in with its password."
	case errors.Is(err, federation.ErrNoEmail):
		msg = "Your identity provider did not share your email address."
	case errors.Is(err, federation.ErrUserDisabled):
		status, msg = http.StatusForbidden, "This account is disabled. Ask your organization's administrator."
	case errors.Is(err, federation.ErrOrgInactive):
		status, msg = http.StatusForbidden, "Your organization cannot sign in at the moment."
	case errors.Is(err, federation.ErrConnectionDisabled):
		status, msg = http.StatusForbidden, msgOptionGone
	default:
		return fmt.Errorf("sign-in through connection %s: %w", x.ID, err)
	}
	h.Log.Info("sign-in refused", "connection", x.ID, "org", x.OrgID, "ip", c.RealIP(), "err", err)
	f.Error = msg
	return h.render(c, status, f)
}
