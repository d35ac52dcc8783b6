package handlers

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/labstack/echo/v4"

	"portico/policyeditor"
	"portico/store"
	"portico/views"
)

// Sign-ins, refused passwords and the lockouts they cause are audit events
// about the account ("signin.*", target the user), so the organization's
// audit log shows them and the account page reads them back as the
// person's sign-in history. Attempts at addresses without an account have
// no organization to file them under: the throttle counts those.
const (
	auditSignInOK      = "signin.success"
	auditSignInFailed  = "signin.failure"
	auditSignInLockout = "signin.lockout"
)

// signInRecord is the part of a sign-in event the history shows.
type signInRecord struct {
	IP      string `json:"ip"`
	Network string `json:"network"`
	Country string `json:"country,omitempty"`
	Method  string `json:"method"`
}

// methodName says in words how someone signed in, from amr values.
func methodName(methods []string) string {
	words := map[string]string{"pwd": "password", "otp": "authenticator code", "fed": "identity provider",
		"hwk": "passkey", "swk": "passkey", "user": "", "mfa": "", "pop": ""}
	var out []string
	seen := map[string]bool{}
	for _, m := range methods {
		w, ok := words[m]
		if !ok {
			w = m
		}
		if w != "" && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		return "unknown"
	}
	return strings.Join(out, " + ")
}

// auditSignIn records one sign-in event about u from the request's address.
func auditSignIn(c echo.Context, st *store.Store, loc policyeditor.Locator, u store.User, action string, methods []string) error {
	ip, country := clientAddress(c, loc)
	rec := signInRecord{IP: c.RealIP(), Network: networkName(policyeditor.LocationOf(ip)), Country: country,
		Method: methodName(methods)}
	actor := store.Actor{Label: u.Email}
	if action == auditSignInOK {
		actor.UserID = u.ID
	}
	return st.Audit(c.Request().Context(), actor.Event(u.OrgID, action, "user", u.ID), nil, rec)
}

// signInHistory is the person's newest sign-in events for the account page.
func signInHistory(ctx context.Context, st *store.Store, userID string) ([]views.SignInEvent, error) {
	events, err := st.TargetAudit(ctx, "user", userID, "signin.", 20)
	if err != nil {
		return nil, err
	}
	out := make([]views.SignInEvent, 0, len(events))
	for _, e := range events {
		var r signInRecord
		_ = json.Unmarshal(e.After, &r) // an unreadable record still shows its time and result
		res := map[string]string{auditSignInOK: "signed in", auditSignInFailed: "refused: wrong " + r.Method,
			auditSignInLockout: "refused and locked: wrong " + r.Method}[e.Action]
		if res == "" {
			res = strings.TrimPrefix(e.Action, "signin.")
		}
		out = append(out, views.SignInEvent{At: e.At, Network: r.Network, IP: r.IP, Country: r.Country, Method: r.Method,
			Result: res, OK: e.Action == auditSignInOK})
	}
	return out, nil
}
