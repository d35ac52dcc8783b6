package authserver_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzTokenRequest throws arbitrary form bodies and Authorization headers at
// the token endpoint: it must never panic or answer 5xx, and must never
// issue a token without valid client credentials.
func FuzzTokenRequest(f *testing.F) {
	w := newWorld(f)
	svc, secret := w.service("orders:read")
	f.Add("grant_type=client_credentials", "Basic "+basic(svc.ClientID, secret))
	f.Add("grant_type=client_credentials&client_id="+svc.ClientID+"&client_secret=x", "")
	f.Add("grant_type=authorization_code&code=a&redirect_uri=http://x", "")
	f.Add("grant_type=refresh_token&refresh_token=%00", "Basic !!!")
	f.Add("grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token=a.b.c&subject_token_type=urn:ietf:params:oauth:token-type:access_token", "Basic "+basic(svc.ClientID, secret))
	f.Add("client_assertion=a.b.c&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&grant_type=client_credentials", "")
	f.Add("grant_type=client_credentials&scope=%22%5C", "Basic "+basic(svc.ClientID, secret))
	f.Fuzz(func(t *testing.T, body, auth string) {
		req := httptest.NewRequest(http.MethodPost, w.issuer+"/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		w.srv.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Code == 200 && !strings.Contains(auth, basic(svc.ClientID, secret)) && !strings.Contains(body, secret) {
			t.Fatalf("token issued without credentials: %q %q", body, auth)
		}
	})
}

func basic(id, secret string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	req.SetBasicAuth(id, secret)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}
