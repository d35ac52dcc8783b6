package handlers

import "testing"

// A tab is dropped by browsers when they parse a URL, so "/\t/evil" would
// leave as "//evil": every control character keeps the browser home.
func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"":                 "/",
		"/apps":            "/apps",
		"//evil.example":   "/",
		"/\\evil.example":  "/",
		"/\t/evil.example": "/",
		"/x\r\nSet-Cookie": "/",
		"https://evil":     "/",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}
