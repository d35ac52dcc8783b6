package authserver

import (
	"net/http"
	"testing"
	"time"
)

func TestCacheLifetime(t *testing.T) {
	cases := []struct {
		header string
		want   time.Duration
	}{
		{"", metadataDefaultTTL},
		{"max-age=3600", time.Hour},
		{"public, max-age=5", metadataMinTTL},
		{"max-age=31536000", metadataMaxTTL},
		{"no-store", 0},
		{"max-age=600, no-cache", 0},
		{"max-age=abc", 0},
		{`max-age="120"`, 2 * time.Minute},
	}
	for _, c := range cases {
		h := http.Header{}
		if c.header != "" {
			h.Set("Cache-Control", c.header)
		}
		if got := metadataLifetime(h); got != c.want {
			t.Errorf("%q: %v, want %v", c.header, got, c.want)
		}
	}
}

func TestMetadataURLRules(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://agent.example/client.json":      true,
		"https://agent.example":                  false,
		"https://agent.example/":                 false,
		"http://agent.example/client.json":       false,
		"https://agent.example/a/../client":      false,
		"https://agent.example/client.json#x":    false,
		"https://user@agent.example/client.json": false,
	} {
		if got := isMetadataClientID(raw); got != ok {
			t.Errorf("%s: %v", raw, got)
		}
	}
}
