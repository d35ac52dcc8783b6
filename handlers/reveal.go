package handlers

import (
	"errors"
	"time"

	"github.com/labstack/echo/v4"

	"portico/store"
)

// A secret or token a form creates is not written into the answer to the
// POST (a reload would post again and create a second one): it is sealed
// and held server-side for the viewer's session, the POST redirects to a
// page with the hold's id, and that page takes it out once.
const revealTTL = 10 * time.Minute

func revealPurpose(sessionID string) string { return "reveal:" + sessionID }

// holdReveal holds value for the viewer's session and returns the id to
// put in the redirect. ok is false when the portal has no sealer (then the
// caller shows the value on the POST's answer, as before).
func holdReveal(c echo.Context, st *store.Store, sealer *store.Sealer, now time.Time, value string) (id string, ok bool, err error) {
	v := viewerFrom(c)
	if sealer == nil || v == nil {
		return "", false, nil
	}
	id, err = st.PutReveal(c.Request().Context(), v.Session.ID,
		sealer.Seal([]byte(value), revealPurpose(v.Session.ID)), now, now.Add(revealTTL))
	return id, err == nil, err
}

// takeReveal gives out a held value once, to the session that made it;
// found is false when it was already shown, expired or is not this
// session's.
func takeReveal(c echo.Context, st *store.Store, sealer *store.Sealer, now time.Time, id string) (value string, found bool, err error) {
	v := viewerFrom(c)
	if sealer == nil || v == nil || id == "" {
		return "", false, nil
	}
	sealed, err := st.TakeReveal(c.Request().Context(), id, v.Session.ID, now)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	plain, err := sealer.Open(sealed, revealPurpose(v.Session.ID))
	if err != nil {
		return "", false, err
	}
	c.Response().Header().Set("Cache-Control", "no-store") // the value is in this page only
	return string(plain), true, nil
}
