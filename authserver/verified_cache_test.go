package authserver

import (
	"fmt"
	"sync"
	"testing"
)

func verifiedFor(token string, exp int64) *verifiedToken {
	return &verifiedToken{token: token, claims: &accessClaims{JTI: token, Expiry: exp}}
}

// TestVerifiedTokensEvictOneAtATime: a full cache makes room for a new token
// by dropping one entry, never all of them: expired entries and entries not
// used since the hand last passed go first, tokens in use stay.
func TestVerifiedTokensEvictOneAtATime(t *testing.T) {
	const now, size = 1000, 8
	v := verifiedTokens{max: size}
	for i := range size {
		v.put(verifiedFor(fmt.Sprint("t", i), now+600), now)
	}
	// The working set: every even token is used.
	for i := 0; i < size; i += 2 {
		if _, ok := v.get(fmt.Sprint("t", i)); !ok {
			t.Fatalf("t%d missing before the cache was full", i)
		}
	}
	for i := range size / 2 {
		v.put(verifiedFor(fmt.Sprint("new", i), now+600), now)
		if n := v.len(); n != size {
			t.Fatalf("after put %d the cache holds %d, want %d", i, n, size)
		}
	}
	for i := range size {
		_, ok := v.get(fmt.Sprint("t", i))
		if used := i%2 == 0; ok != used {
			t.Errorf("t%d cached %v, want %v (used: %v)", i, ok, used, used)
		}
	}
	for i := range size / 2 {
		if _, ok := v.get(fmt.Sprint("new", i)); !ok {
			t.Errorf("new%d missing", i)
		}
	}

	// Put again, a cached token is replaced in place.
	v.put(verifiedFor("new0", now+900), now)
	if e, _ := v.get("new0"); e.claims.Expiry != now+900 || v.len() != size {
		t.Errorf("re-put: expiry %d, size %d", e.claims.Expiry, v.len())
	}
}

// TestVerifiedTokensEvictExpiredFirst: with every entry in use, the one
// that expired goes, not a live one.
func TestVerifiedTokensEvictExpiredFirst(t *testing.T) {
	const now, size = 1000, 8
	v := verifiedTokens{max: size}
	for i := range size {
		exp := int64(now + 600)
		if i == 5 {
			exp = now - 1
		}
		v.put(verifiedFor(fmt.Sprint("t", i), exp), now)
	}
	for i := range size {
		v.get(fmt.Sprint("t", i))
	}
	v.put(verifiedFor("next", now+600), now)
	for i := range size {
		if _, ok := v.get(fmt.Sprint("t", i)); ok != (i != 5) {
			t.Errorf("t%d cached: %v", i, ok)
		}
	}
	if _, ok := v.get("next"); !ok {
		t.Error("the entry just put is missing")
	}
}

// TestVerifiedTokensStayConsistentUnderLoad: many goroutines putting and
// getting more tokens than fit leave a cache of at most max entries whose
// index and ring agree (run with -race).
func TestVerifiedTokensStayConsistentUnderLoad(t *testing.T) {
	const size = 64
	v := verifiedTokens{max: size}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				tok := fmt.Sprint("g", g, "-", i%(size/2))
				if _, ok := v.get(tok); !ok {
					v.put(verifiedFor(tok, 2000), 1000)
				}
			}
		}()
	}
	wg.Wait()
	if v.len() > size {
		t.Fatalf("cache holds %d, max %d", v.len(), size)
	}
	if len(v.index) != len(v.ring) {
		t.Fatalf("index %d entries, ring %d", len(v.index), len(v.ring))
	}
	for tok, i := range v.index {
		if v.ring[i].token != tok {
			t.Fatalf("index says %s is in slot %d, which holds %s", tok, i, v.ring[i].token)
		}
	}
}
