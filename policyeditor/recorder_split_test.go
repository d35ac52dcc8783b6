package policyeditor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// splitRequests are requests whose contexts exercise every part of the
// log's split: each inline field present and absent, IPv4, IPv6, an IPv4
// address mapped into IPv6 (its location is not the address masked, so it
// stays shared), an address with a zone and times JSON cannot write (both
// taken the long way), HTML characters in values, and empty contexts.
func splitRequests() []Request {
	at := time.Date(2026, 11, 23, 23, 0, 0, 123456789, time.UTC)
	loc := time.FixedZone("X", 3*3600)
	full := Request{Now: at, IP: netip.MustParseAddr("198.51.100.4"), Country: "BR", Org: "acme", Plan: "gold",
		ValidUntil: at.Add(90 * 24 * time.Hour).In(loc), Issuer: "https://idp.example", Attributes: map[string]string{"tier": "<a&b>", "dept": "ops"},
		OrgAttributes: map[string]string{"region": "eu"},
		User: User{Groups: []string{"contractors", "devs"}, MFAAt: at.Add(-time.Minute - 7*time.Microsecond),
			AuthMethods: map[string]time.Time{"pwd": at.Add(-2 * time.Hour), "otp": at.Add(-time.Minute).In(loc), "hwk": at.Add(time.Second)},
			Locations:   []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}, ConnectionID: "conn-1"},
		Client: Client{ID: "app", Scopes: []string{"openid", "orders:read"}, Type: "web"},
		HTTP:   HTTPRequest{Method: "GET", Path: "/orders/7", Host: "api.example", API: "https://api.example"},
		Token:  Token{IssuedAt: at.Add(-30 * time.Second), SenderConstrained: true, Features: []string{"bulk"}}}
	v6 := full
	v6.IP = netip.MustParseAddr("2001:db8::7")
	mapped := full
	mapped.IP = netip.MustParseAddr("::ffff:198.51.100.4")
	zoned := full
	zoned.IP = netip.MustParseAddr("fe80::1%eth0")
	noIP := full
	noIP.IP = netip.Addr{}
	future := full
	future.User.MFAAt = at.Add(time.Hour) // after the decision: the flagged delta
	farTime := full
	farTime.ValidUntil = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	machine := Request{Now: at, IP: netip.MustParseAddr("192.0.2.7"), Org: "acme", Client: Client{ID: "sync", Scopes: []string{"orders:read"}, Type: "service"}}
	return []Request{full, v6, mapped, zoned, noIP, future, farTime, machine, {}, {Now: at}}
}

// TestPrepareDecisionSplit checks the recorder's direct split of a context
// against the store's split of the whole marshalled context: the same
// shared value and inline bytes, so equal contexts share a row whichever
// way they were written, and the context reads back as marshalled.
func TestPrepareDecisionSplit(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 11, 23, 23, 0, 0, 123456789, time.UTC)
	for i, req := range splitRequests() {
		for _, stepUp := range []bool{false, true} {
			name := fmt.Sprintf("request %d stepUp %v", i, stepUp)
			d := store.Decision{At: at, Point: "token", OrgID: "org", ClientID: "app", Action: "permit", Reason: "r"}
			fast := prepareDecision(d, &req, stepUp)
			d.Context = marshalContext(&req, stepUp)
			slow := store.PrepareDecision(d)
			fs, fx := fast.StoredContext()
			ss, sx := slow.StoredContext()
			if fs != ss || !bytes.Equal(fx, sx) {
				t.Fatalf("%s: direct split %q %x, store's split %q %x", name, fs, fx, ss, sx)
			}
			if want := req.IP.Zone() == "" && req.ValidUntil.Year() <= 9999; fast.Decision.Context != nil == want {
				t.Errorf("%s: direct split taken: %v, want %v", name, fast.Decision.Context == nil, want)
			}
			ps := []store.PendingDecision{fast}
			if _, err := st.WriteDecisions(ctx, ps); err != nil {
				t.Fatal(err)
			}
			got, err := st.Decision(ctx, "", ps[0].Decision.ID)
			if err != nil {
				t.Fatal(err)
			}
			var want, have any
			json.Unmarshal(d.Context, &want)
			json.Unmarshal(got.Context, &have)
			if !reflect.DeepEqual(want, have) {
				t.Fatalf("%s: read back %s, want %s", name, got.Context, d.Context)
			}
		}
	}
}
