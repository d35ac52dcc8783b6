package authserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sync"
	"testing"
)

// TestHasherReusesStatesWithoutMixingValues: sums from reused HMAC states,
// taken concurrently and interleaved across purposes, equal a fresh
// HMAC-SHA-256 of purpose, a zero byte and the value under the key.
func TestHasherReusesStatesWithoutMixingValues(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	h := &hasher{key: key}
	want := func(purpose, value string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(purpose + "\x00" + value))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				purpose := []string{purposeSecret, purposeRefresh, purposeCode}[i%3]
				v := fmt.Sprint("value-", g, "-", i)
				if got := h.sum(purpose, v); got != want(purpose, v) {
					t.Errorf("sum(%s, %s) = %s, want %s", purpose, v, got, want(purpose, v))
					return
				}
			}
		}()
	}
	wg.Wait()
	if h.sum(purposeSecret, "x") == h.sum(purposeRefresh, "x") {
		t.Fatal("one value hashes alike for two purposes")
	}
}
