package authserver

import (
	"net/http"
	"testing"
	"time"
)

// TestIssuerKeysCacheLifetime: a partner's Cache-Control decides how long
// its keys are kept, within [1m, 24h]; no-store/no-cache mean the minimum.
func TestIssuerKeysCacheLifetime(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", issuerKeysDefault},
		{"public, max-age=3600", time.Hour},
		{"max-age=5", issuerKeysMin},
		{"max-age=99999999", issuerKeysMax},
		{"no-store", issuerKeysMin},
		{"public, no-cache, max-age=600", issuerKeysMin},
		{"max-age=banana", issuerKeysDefault},
	} {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Cache-Control", tc.header)
		}
		if got := issuerKeysLifetime(h); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.header, got, tc.want)
		}
	}
}
