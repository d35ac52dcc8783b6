package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/store"
)

// delays records the waits the portal asks for instead of waiting.
type delays struct {
	mu  sync.Mutex
	got []time.Duration
}

func (d *delays) sleep(_ context.Context, x time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got = append(d.got, x)
}

// take returns the waits asked for since the last take.
func (d *delays) take() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.got
	d.got = nil
	return out
}

// throttlePortal is a portal behind a trusted proxy on 127.0.0.1, so tests
// choose each request's source address, with the delays recorded.
func throttlePortal(t *testing.T, opts ...handlerstest.Option) (*handlerstest.Harness, *delays) {
	d := &delays{}
	opts = append([]handlerstest.Option{func(c *handlers.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.SignIn.Sleep = d.sleep
	}}, opts...)
	return handlerstest.New(t, opts...), d
}

// signInFrom posts the password form from ip.
func signInFrom(t *testing.T, h *handlerstest.Harness, c *handlerstest.Client, ip, email, password string) handlerstest.Response {
	t.Helper()
	return from(t, c, http.MethodPost, h.URL+"/login", ip, url.Values{"email": {email}, "password": {password}})
}

// Finding 6: five wrong passwords from one network lock that (account,
// network) pair only. The owner still signs in from their own network, and
// another account from the attacker's network is not locked.
func TestFailedPasswordsLockOnlyTheAccountAndNetworkThatFailed(t *testing.T) {
	h, _ := throttlePortal(t)
	org := h.Org(t, "acme", "acme.example")
	h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	h.User(t, org, "bob@acme.example", store.RoleMember, pw)
	staff := h.Org(t, "staff", "portico.example")
	admin := h.User(t, staff, "root@portico.example", store.RoleAdmin, pw)
	if _, _, err := h.Store.UpdateUser(context.Background(), staff.ID, admin.ID, func(u *store.User) error {
		u.PlatformAdmin = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const attacker, attackerNeighbour, home = "198.51.100.7", "198.51.100.99", "203.0.113.9"

	evil := h.Client(t)
	for _, victim := range []string{"ann@acme.example", "root@portico.example"} {
		for i := 1; i <= 5; i++ {
			signInFrom(t, h, evil, attacker, victim, "wrong password!")
		}
		if r := signInFrom(t, h, evil, attacker, victim, pw); r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%s, right password from the attacking network after 5 failures: %d", victim, r.StatusCode)
		}
		// The same /24 is the same network.
		if r := signInFrom(t, h, h.Client(t), attackerNeighbour, victim, pw); r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%s from the attacker's /24: %d", victim, r.StatusCode)
		}
		// The owner, from a network that did not fail, signs in.
		if r := signInFrom(t, h, h.Client(t), home, victim, pw); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s from their own network while an attacker failed elsewhere: %d %s", victim, r.StatusCode, pageError(r.Body))
		}
	}
	// Another account from the attacker's network is not locked.
	if r := signInFrom(t, h, h.Client(t), attacker, "bob@acme.example", pw); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("another account from the attacking network: %d %s", r.StatusCode, pageError(r.Body))
	}
	// IPv6: the /48 is the network.
	for i := 1; i <= 5; i++ {
		signInFrom(t, h, evil, "2001:db8:1:2::7", "bob@acme.example", "wrong password!")
	}
	if r := signInFrom(t, h, h.Client(t), "2001:db8:1:ffff::1", "bob@acme.example", pw); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("same /48: %d", r.StatusCode)
	}
	if r := signInFrom(t, h, h.Client(t), "2001:db8:2::1", "bob@acme.example", pw); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("another /48: %d", r.StatusCode)
	}
}

// A network that fails on many accounts is throttled as a whole, and only
// that network.
func TestANetworkFailingOnManyAccountsIsThrottled(t *testing.T) {
	h, _ := throttlePortal(t)
	org := h.Org(t, "acme", "acme.example")
	h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	evil := h.Client(t)
	for i := 0; i < 50; i++ {
		r := signInFrom(t, h, evil, "198.51.100.7", fmt.Sprintf("user%d@acme.example", i), "wrong password!")
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, r.StatusCode)
		}
	}
	if r := signInFrom(t, h, h.Client(t), "198.51.100.8", "ann@acme.example", pw); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password from a network with 50 failures: %d", r.StatusCode)
	}
	if r := signInFrom(t, h, h.Client(t), "203.0.113.9", "ann@acme.example", pw); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("from another network: %d", r.StatusCode)
	}
}

// Finding 7: an email with an account and one without get the same
// statuses, the same words and the same delays, attempt after attempt,
// including the lock.
func TestUnknownAndKnownEmailsAreAnsweredAlike(t *testing.T) {
	h, d := throttlePortal(t)
	org := h.Org(t, "acme", "acme.example")
	h.User(t, org, "ann@acme.example", store.RoleMember, pw)

	type answer struct {
		status int
		msg    string
		waits  string
	}
	emailRE := regexp.MustCompile(`[a-z]+@acme\.example`)
	run := func(email string) []answer {
		c := h.Client(t)
		var out []answer
		for i := 0; i < 7; i++ {
			start := time.Now()
			r := signInFrom(t, h, c, "198.51.100.7", email, "wrong password!")
			if el := time.Since(start); el > 5*time.Second {
				t.Fatalf("attempt %d took %v", i+1, el)
			}
			out = append(out, answer{r.StatusCode, emailRE.ReplaceAllString(pageError(r.Body), "EMAIL"), fmt.Sprint(d.take())})
		}
		return out
	}
	known, unknown := run("ann@acme.example"), run("nobody@acme.example")
	for i := range known {
		if known[i] != unknown[i] {
			t.Errorf("attempt %d:\n  existing account: %+v\n  no account:       %+v", i+1, known[i], unknown[i])
		}
	}
	if known[0].status != http.StatusUnauthorized || known[0].waits != "[400ms]" || known[2].waits != "[1.2s]" {
		t.Errorf("delay schedule: %+v", known)
	}
	if known[4].status != http.StatusTooManyRequests || known[6].status != http.StatusTooManyRequests {
		t.Errorf("no lock after 5 failures: %+v", known)
	}
}
