package demoapp_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"portico/demoapp"
)

// A callback without this browser's state cookie, or with another state,
// is refused before anything is exchanged; a launch naming another issuer
// is refused too. (The full sign-in is played in a browser by
// cmd/portico's TestBrowserDemoLaunchEndsOnTheDemoApp.)
func TestDemoAppRefusesForeignCallbacksAndIssuers(t *testing.T) {
	app := &demoapp.App{Issuer: "http://127.0.0.1:1", ClientID: "c", ClientSecret: "s"}
	cases := map[string]struct {
		path   string
		cookie string
		want   string
	}{
		"no cookie":      {"/demo-app/callback?state=abc&code=x", "", "another browser"},
		"other state":    {"/demo-app/callback?state=abc&code=x", "def", "another browser"},
		"unknown state":  {"/demo-app/callback?state=abc&code=x", "abc", "expired"},
		"foreign issuer": {"/demo-app/login?iss=https://evil.example", "", "signs in only through"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: "demo_app_state", Value: tc.cookie})
			}
			w := httptest.NewRecorder()
			app.ServeHTTP(w, r)
			if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), tc.want) {
				t.Errorf("%d %s", w.Code, w.Body.String())
			}
		})
	}
}
