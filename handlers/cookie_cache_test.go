package handlers

import (
	"fmt"
	"testing"
	"time"
)

// TestCookieTokensExpireAndStayBounded: an entry answers for its exact
// cookie value only, until its minute is over, and the cache never grows
// past its bound.
func TestCookieTokensExpireAndStayBounded(t *testing.T) {
	var c cookieTokens
	now := time.Unix(1_700_000_000, 0)
	c.put("cookie-a", "token-a", now)
	if e, ok := c.lookup("cookie-a", now.Add(59*time.Second)); !ok || e.token != "token-a" || e.hash != hashToken("token-a") {
		t.Fatalf("fresh entry: %+v %v", e, ok)
	}
	if _, ok := c.lookup("cookie-a ", now); ok {
		t.Fatal("another cookie value answered")
	}
	if _, ok := c.lookup("cookie-a", now.Add(cookieTokenTTL)); ok {
		t.Fatal("an entry outlived its minute")
	}
	for i := range 3 * maxCookieTokens {
		c.put(fmt.Sprint(i), "t", now)
	}
	if n := len(c.m); n > maxCookieTokens {
		t.Fatalf("%d entries, bound %d", n, maxCookieTokens)
	}
}
