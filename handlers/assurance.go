package handlers

import (
	"context"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"portico/store"
)

// How a session was authenticated (docs/PASSKEYS.md): every sign-in and
// step-up records its RFC 8176 methods with the time in session_auth; the
// session's amr, the ID token's acr, and policy conditions on the method
// and its age are read from that record.

// firstFactor is the amr of a first factor: an identity provider ("fed")
// or the portal's password ("pwd").
func firstFactor(connectionID string) []string {
	if connectionID != "" {
		return []string{"fed"}
	}
	return []string{"pwd"}
}

// upstreamAuthKey carries the upstream IdP's amr/acr from the callback to
// the session that sign-in starts.
const upstreamAuthKey = "portico.upstream_auth"

// recordAuth adds methods, used at at, to the session's record.
func recordAuth(c echo.Context, st *store.Store, sessionID string, at time.Time, methods []string) error {
	var up *store.SessionAuth
	if a, ok := c.Get(upstreamAuthKey).(*store.SessionAuth); ok {
		up = a
	}
	return st.RecordSessionAuth(c.Request().Context(), sessionID, at, methods, up)
}

// sessionAMR is the session's amr, sorted, with "mfa" when two kinds of
// factor were used (something known or federated, and something held or
// verified on the authenticator), followed by the upstream's own values.
// A session with nothing recorded (started before this was kept) falls
// back to what the session row says.
func sessionAMR(a store.SessionAuth, s store.Session) []string {
	if len(a.Methods) == 0 {
		switch {
		case s.ConnectionID != "":
			return []string{"fed"}
		case !s.MFAAt.IsZero():
			return []string{"mfa", "otp", "pwd"}
		}
		return []string{"pwd"}
	}
	var out []string
	for m := range a.Methods {
		out = append(out, m)
	}
	has := func(m string) bool { _, ok := a.Methods[m]; return ok }
	knows := has("pwd") || has("fed")
	holds := has("otp") || has("hwk") || has("swk")
	if (knows && holds) || ((has("hwk") || has("swk")) && (has("user") || has("pin"))) {
		out = append(out, "mfa")
	}
	slices.Sort(out)
	for _, m := range a.UpstreamAMR {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// sessionMethods is the session's methods with times for policy
// conditions; a session without a record gets what its row implies.
func sessionMethods(a store.SessionAuth, s store.Session) map[string]time.Time {
	if len(a.Methods) > 0 {
		return a.Methods
	}
	m := map[string]time.Time{}
	for _, x := range firstFactor(s.ConnectionID) {
		m[x] = s.CreatedAt
	}
	if !s.MFAAt.IsZero() {
		m["otp"] = s.MFAAt
	}
	return m
}

// loadSessionAuth reads the record for s: once per principal cache entry
// when s is the request's cached session (recording a step-up moves the
// data version, so the entry is not used after one). The record returned
// may be shared: callers only read it.
func loadSessionAuth(ctx context.Context, st *store.Store, s store.Session) (store.SessionAuth, error) {
	p := principalFrom(ctx)
	if p == nil || p.session.ID != s.ID || !p.current(ctx, st) {
		return st.SessionAuth(ctx, s.ID)
	}
	if a := p.auth.Load(); a != nil {
		return *a, nil
	}
	a, err := st.SessionAuth(ctx, s.ID)
	if err == nil {
		p.auth.Store(&a)
	}
	return a, err
}

// passkeyOnly reports whether a step-up asking for methods can only be
// met by a passkey: it names methods, and a TOTP code is not one of them.
func passkeyOnly(methods []string) bool {
	return len(methods) > 0 && !slices.Contains(methods, "otp")
}
