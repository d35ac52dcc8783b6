package authserver_test

import (
	"net/http"
	"net/url"
	"testing"

	"portico/store"
)

// TestEmailVerifiedIsTheStoredFlag: ID tokens and userinfo say
// email_verified exactly as the user's stored flag says (which is true
// only once the mailbox was proven: a mailed invitation, or an upstream
// IdP's email_verified), never true for everyone.
func TestEmailVerifiedIsTheStoredFlag(t *testing.T) {
	w := newWorld(t)
	web, secret := w.web("orders:read")
	for _, verified := range []bool{false, true} {
		if _, _, err := w.st.UpdateUser(w.ctx, w.org.ID, w.user.ID, func(u *store.User) error {
			u.EmailVerified = verified
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		code := w.codeFor(web.ClientID, "openid email", "")
		st, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirectBase}}, web.ClientID, secret)
		if st != 200 {
			t.Fatalf("exchange: %d %v", st, tok)
		}
		_, id := claims(t, tok["id_token"].(string))
		if id["email"] != w.user.Email || id["email_verified"] != verified {
			t.Errorf("ID token with the flag %v: email %v, email_verified %v", verified, id["email"], id["email_verified"])
		}
		req, _ := http.NewRequest(http.MethodGet, w.issuer+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
		st, ui := w.do(req)
		if st != 200 || ui["email_verified"] != verified {
			t.Errorf("userinfo with the flag %v: %d %v", verified, st, ui)
		}
	}
}
