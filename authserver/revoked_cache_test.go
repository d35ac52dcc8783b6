package authserver

import (
	"fmt"
	"testing"
)

// TestRevokedCacheStartsOverWhenSweepFreesLittle: a full cache whose sweep
// frees only a few expired entries starts over, so the next puts do not
// each scan the whole map again.
func TestRevokedCacheStartsOverWhenSweepFreesLittle(t *testing.T) {
	var r revokedJTIs
	const now = 1000
	for i := range revokedCacheMax {
		exp := int64(now + 60)
		if i == 0 {
			exp = now - 1 // the one expired entry
		}
		r.put(fmt.Sprint("j", i), revokedEntry{exp: exp}, now)
	}
	if len(r.m) != revokedCacheMax {
		t.Fatalf("filled to %d, want %d", len(r.m), revokedCacheMax)
	}
	r.put("new", revokedEntry{revoked: true, exp: now + 60}, now)
	if len(r.m) != 1 {
		t.Fatalf("after a sweep that freed one entry the cache holds %d, want 1 (started over)", len(r.m))
	}
	if e, ok := r.get("new"); !ok || !e.revoked {
		t.Fatal("the entry put after starting over is missing")
	}
}
