package handlers_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"portico/handlers"
	"portico/store"
)

// recordedMetrics keeps what the web layer reports.
type recordedMetrics struct {
	mu       sync.Mutex
	signIns  map[string]int // method/result
	lockouts map[string]int
}

func (m *recordedMetrics) Request(string, string, int, time.Duration) {}
func (m *recordedMetrics) SignIn(method, result string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.signIns[method+"/"+result]++
}
func (m *recordedMetrics) Lockout(factor string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lockouts[factor]++
}

// TestSignInMetrics: wrong passwords count as failures, the attempt that a
// lock refuses as locked and as a lockout, a good password as a success;
// nothing is labelled with the email.
func TestSignInMetrics(t *testing.T) {
	rec := &recordedMetrics{signIns: map[string]int{}, lockouts: map[string]int{}}
	h, _ := throttlePortal(t, func(c *handlers.Config) { c.Metrics = rec })
	org := h.Org(t, "acme", "acme.example")
	h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	c := h.Client(t)
	for range 5 {
		signInFrom(t, h, c, "198.51.100.7", "ann@acme.example", "wrong password!")
	}
	if r := signInFrom(t, h, c, "198.51.100.7", "ann@acme.example", pw); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after 5 failures: %d", r.StatusCode)
	}
	if r := signInFrom(t, h, h.Client(t), "203.0.113.9", "ann@acme.example", pw); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("from home: %d", r.StatusCode)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.signIns["pwd/success"] != 1 || rec.signIns["pwd/locked"] < 1 || rec.signIns["pwd/failure"] < 4 {
		t.Errorf("sign-ins %v", rec.signIns)
	}
	if rec.lockouts["password"] < 1 {
		t.Errorf("lockouts %v", rec.lockouts)
	}
}
