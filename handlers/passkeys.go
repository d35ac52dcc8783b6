package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/labstack/echo/v4"

	"portico/store"
	"portico/views"
)

// Passkeys lets a signed-in person register several named passkeys, see
// when each was last used, and remove them. Adding one needs the first
// factor proven within the minute (the password on the form, or a fresh
// sign-in), as for any second factor; so does removing one. Every change
// is audited with it and mailed.
type Passkeys struct {
	Store  *store.Store
	Pages  *Pages
	RP     *webauthn.WebAuthn
	Now    func() time.Time
	Log    *slog.Logger
	Sleep  func(ctx context.Context, d time.Duration)
	Mailer SecurityMailer
}

// Mount registers the routes.
func (h *Passkeys) Mount(g *echo.Group) {
	h.Pages.AddNav("Passkeys", "/account/passkeys", anyone)
	a := g.Group("/account/passkeys", requireUser)
	a.GET("", h.show)
	a.POST("/begin", h.begin)
	a.POST("", h.add)
	a.POST("/:id/delete", h.remove)
}

func (h *Passkeys) sleep() sleeper {
	if h.Sleep == nil {
		return sleepCtx
	}
	return h.Sleep
}

func (h *Passkeys) props(c echo.Context, v *Viewer) (views.PasskeysProps, error) {
	ctx := c.Request().Context()
	list, err := h.Store.UserPasskeys(ctx, v.User.ID)
	if err != nil {
		return views.PasskeysProps{}, err
	}
	r, err := reauthProps(c, h.Store, v, "/account/passkeys", h.Now())
	m := views.PasskeysProps{Reauth: r, Required: v.Org.RequirePasskey,
		Register: views.PasskeyCeremony{ID: "passkey-register", Mode: "create", Begin: "/account/passkeys/begin",
			Action: "/account/passkeys", Label: "Add a passkey", AskName: true, Reauth: r}}
	for _, k := range list {
		kind := "device-bound key"
		if k.BackupEligible {
			kind = "synced passkey"
		}
		m.Passkeys = append(m.Passkeys, views.PasskeyRow{ID: k.ID, Name: k.Name, Kind: kind, Created: k.CreatedAt, LastUsed: k.LastUsedAt})
	}
	if c.QueryParam("added") == "1" {
		m.Notice = "Your passkey was added."
	}
	return m, err
}

func (h *Passkeys) page(c echo.Context, status int, m views.PasskeysProps) error {
	return render(c, status, views.PasskeysPage(h.Pages.Page(c, "Passkeys"), m))
}

func (h *Passkeys) show(c echo.Context) error {
	m, err := h.props(c, viewerFrom(c))
	if err != nil {
		return err
	}
	if h.RP == nil {
		m.Error = msgPasskeyOff
	}
	return h.page(c, http.StatusOK, m)
}

// passkeyName reads the name field: trimmed, at most 60 characters,
// printable; empty gets a dated default.
func passkeyName(s string, now time.Time) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return defaultPasskeyName(now), ""
	}
	if utf8.RuneCountInString(s) > 60 {
		return "", "The name can be at most 60 characters."
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return "", "The name cannot contain control characters."
		}
	}
	return s, ""
}

// begin checks the first factor (as every enrolment does) and answers the
// registration options, bound to this session.
func (h *Passkeys) begin(c echo.Context) error {
	v := viewerFrom(c)
	if h.RP == nil {
		return ceremonyJSON(c, http.StatusNotFound, ceremony{}, msgPasskeyOff)
	}
	now := h.Now()
	if _, msg := passkeyName(c.FormValue("name"), now); msg != "" {
		return ceremonyJSON(c, http.StatusUnprocessableEntity, ceremony{}, msg)
	}
	if fail, err := checkReauth(c, h.Store, h.sleep(), v, now); err != nil {
		return err
	} else if fail != nil {
		return ceremonyJSON(c, fail.Status, ceremony{}, reauthMessage(fail.Message))
	}
	cer, err := beginRegistration(c.Request().Context(), h.Store, h.RP, v.User, v.Session.ID, purposeRegister, now)
	if err != nil {
		return err
	}
	return ceremonyJSON(c, http.StatusOK, cer, "")
}

// reauthMessage words checkReauth's messages for passkeys.
func reauthMessage(msg string) string {
	msg = strings.ReplaceAll(msg, "set up two-step verification", "add a passkey")
	return strings.ReplaceAll(msg, "then enter the code within a minute", "then add the passkey within a minute")
}

// add verifies the new passkey against the challenge begin issued (which
// only a re-authenticated session gets), stores it and audits it.
func (h *Passkeys) add(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	now := h.Now()
	fail := func(status int, msg string) error {
		m, err := h.props(c, v)
		if err != nil {
			return err
		}
		m.Error = msg
		return h.page(c, status, m)
	}
	if h.RP == nil {
		return fail(http.StatusNotFound, msgPasskeyOff)
	}
	name, msg := passkeyName(c.FormValue("name"), now)
	if msg != "" {
		return fail(http.StatusUnprocessableEntity, msg)
	}
	_, sd, err := takeCeremony(ctx, h.Store, c.FormValue("challenge"), v.Session.ID, purposeRegister, now)
	if errors.Is(err, errCeremony) {
		return fail(http.StatusBadRequest, "This passkey request has expired. Try again.")
	}
	if err != nil {
		return err
	}
	pk, err := finishRegistration(ctx, h.Store, h.RP, v.User, sd, []byte(c.FormValue("credential")), name, now)
	if errors.Is(err, errCeremony) {
		h.Log.Info("passkey registration refused", "user", v.User.ID, "err", err)
		return fail(http.StatusUnprocessableEntity, "The passkey could not be added. Try again.")
	}
	if err != nil {
		return err
	}
	change := factorChange{Added: true, Where: "account", IP: c.RealIP(), Passkey: name}
	var hadCodes bool
	err = h.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.AddPasskey(ctx, &pk); err != nil {
			return err
		}
		n, err := tx.UnusedRecoveryCodes(ctx, v.User.ID)
		hadCodes = n > 0
		if err != nil {
			return err
		}
		return auditFactorChange(ctx, tx, actorOf(v), v.User, change)
	})
	if errors.Is(err, store.ErrAlreadyExists) {
		return fail(http.StatusConflict, "This passkey is already registered.")
	}
	if err != nil {
		return err
	}
	notifyFactorChange(h.Mailer, h.Log, v.User, change, now)
	h.Log.Info("passkey added", "user", v.User.ID, "passkey", pk.ID, "ip", c.RealIP())
	if !hadCodes {
		// The first factor beyond the password: recovery codes, shown once.
		codes, hashes := newRecoveryCodes()
		if err := h.Store.ReplaceRecoveryCodes(ctx, v.User.ID, hashes); err != nil {
			return err
		}
		m, err := h.props(c, v)
		if err != nil {
			return err
		}
		m.Notice, m.RecoveryCodes = "Your passkey was added. Keep these recovery codes somewhere safe: each signs you in once if you lose your passkeys. They are not shown again.", codes
		return h.page(c, http.StatusOK, m)
	}
	return c.Redirect(http.StatusSeeOther, "/account/passkeys?added=1")
}

// remove deletes one of the viewer's passkeys after the same proof as an
// enrolment; the last factor of someone whose organization requires one
// stays.
func (h *Passkeys) remove(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	now := h.Now()
	fail := func(status int, msg string) error {
		m, err := h.props(c, v)
		if err != nil {
			return err
		}
		m.Error = msg
		return h.page(c, status, m)
	}
	list, err := h.Store.UserPasskeys(ctx, v.User.ID)
	if err != nil {
		return err
	}
	var pk *store.Passkey
	for i := range list {
		if list[i].ID == c.Param("id") {
			pk = &list[i]
		}
	}
	if pk == nil {
		return store.ErrNotFound
	}
	if msg, err := lastFactorRefusal(ctx, h.Store, v.Org, v.User.ID, len(list)-1, -1); err != nil || msg != "" {
		if err != nil {
			return err
		}
		return fail(http.StatusConflict, msg)
	}
	if fail2, err := checkReauth(c, h.Store, h.sleep(), v, now); err != nil {
		return err
	} else if fail2 != nil {
		return fail(fail2.Status, strings.ReplaceAll(reauthMessage(fail2.Message), "add the passkey", "remove the passkey"))
	}
	change := factorChange{Where: "account", IP: c.RealIP(), Passkey: pk.Name}
	err = h.Store.InTx(ctx, func(tx *store.Store) error {
		if _, err := tx.DeletePasskey(ctx, v.User.ID, pk.ID); err != nil {
			return err
		}
		return auditFactorChange(ctx, tx, actorOf(v), v.User, change)
	})
	if err != nil {
		return err
	}
	notifyFactorChange(h.Mailer, h.Log, v.User, change, now)
	h.Log.Info("passkey removed", "user", v.User.ID, "passkey", pk.ID, "ip", c.RealIP())
	return c.Redirect(http.StatusSeeOther, "/account/passkeys")
}

// lastFactorRefusal says why a factor may not be removed, or "": an
// organization that requires passkeys keeps its members' last passkey, and
// one that requires a second factor keeps their last factor of any kind.
// passkeysLeft is how many passkeys remain after the removal; totpLeft is
// 1 or 0 after it, or -1 to look it up.
func lastFactorRefusal(ctx context.Context, st *store.Store, org store.Organization, userID string, passkeysLeft, totpLeft int) (string, error) {
	if org.RequirePasskey && passkeysLeft == 0 {
		return "Your organization requires a passkey: add another passkey before removing this one.", nil
	}
	if !org.RequireMFA {
		return "", nil
	}
	if totpLeft < 0 {
		t, err := st.UserTOTP(ctx, userID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			totpLeft = 0
		case err != nil:
			return "", err
		case !t.ConfirmedAt.IsZero():
			totpLeft = 1
		default:
			totpLeft = 0
		}
	}
	if passkeysLeft+totpLeft == 0 {
		return "Your organization requires two-step verification: set up another passkey or an authenticator app before removing your last one.", nil
	}
	return "", nil
}
