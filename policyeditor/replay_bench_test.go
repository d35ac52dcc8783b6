package policyeditor_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"portico/policyeditor"
	"portico/store"
)

// BenchmarkDecideShadow is a launch and a token-endpoint (refresh)
// decision through the Engine, by a policy with only its enforced version
// and by a copy of it with a report-only version beside it, interleaved in
// the same run: what report-only mode adds to the request path. "recorded"
// is as the server decides (recorder on, revalidating every few
// milliseconds); "not recorded" leaves the recorder's goroutine out, which
// on a busy machine is most of the noise.
func BenchmarkDecideShadow(b *testing.B) {
	ctx := context.Background()
	st, _ := openStore(&testing.T{})
	defer st.Close()
	svc := &policyeditor.Service{Store: st}
	plain, err := svc.Save(ctx, admin, "", 0, ibmDoc(&testing.T{}), "")
	if err != nil {
		b.Fatal(err)
	}
	doc := ibmDoc(&testing.T{})
	doc.Name += " (shadowed)"
	shadowed, err := svc.Save(ctx, admin, "", 0, doc, "")
	if err != nil {
		b.Fatal(err)
	}
	strict, err := policyeditor.ParseDocument([]byte(strictJSON))
	if err != nil {
		b.Fatal(err)
	}
	strict.Name = doc.Name
	if _, err := svc.SaveShadow(ctx, admin, shadowed.Policy.ID, strict, ""); err != nil {
		b.Fatal(err)
	}
	rec := policyeditor.NewRecorder(st, policyeditor.RecorderOptions{Log: quiet()})
	defer rec.Close()
	now := time.Now()
	methods := map[string]time.Time{"pwd": now.Add(-time.Hour), "otp": now.Add(-10 * time.Minute)}
	for _, recorded := range []bool{false, true} {
		eng := policyeditor.NewEngine(st, nil)
		name := "not recorded"
		if recorded {
			eng, name = policyeditor.NewEngine(st, rec), "recorded"
		}
		eng.Revalidate = 5 * time.Millisecond
		for _, point := range []policyeditor.Point{policyeditor.PointLaunch, policyeditor.PointRefresh} {
			for _, pol := range []policyeditor.Saved{plain, shadowed} {
				mode := "enforced only"
				if pol.Policy.ID == shadowed.Policy.ID {
					mode = "with report-only"
				}
				b.Run(name+"/"+string(point)+"/"+mode, func(b *testing.B) {
					ev := launchEval(now, 1, "198.51.100.7", []string{"developers"}, methods, false)
					ev.Point, ev.ClientPolicyID = point, pol.Policy.ID
					out, err := eng.Decide(ctx, ev)
					if err != nil || out.Action != policyeditor.Permit || (mode == "with report-only") != (out.ShadowVersion != 0) {
						b.Fatalf("%v %+v", err, out)
					}
					b.ReportAllocs()
					for b.Loop() {
						if _, err := eng.Decide(ctx, ev); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// BenchmarkReplay is replay throughput over a log written the way the
// recorder writes it: PORTICO_BENCH_REPLAY decisions (default 200,000) of
// 2,000 people in 40 organizations at 4 networks each, with per-request
// addresses, MFA and auth method times, over one policy's decisions.
func BenchmarkReplay(b *testing.B) {
	ctx := context.Background()
	st, _ := openStore(&testing.T{})
	defer st.Close()
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("PORTICO_BENCH_REPLAY")); err == nil && v > 0 {
		n = v
	}
	svc := &policyeditor.Service{Store: st}
	s, err := svc.Save(ctx, admin, "", 0, ibmDoc(&testing.T{}), "")
	if err != nil {
		b.Fatal(err)
	}
	ibmPol, _ := policyeditor.CompileJSON([]byte(ibm))
	t0 := time.Now().Add(-6 * 24 * time.Hour)
	step := 6 * 24 * time.Hour / time.Duration(n)
	r := rand.New(rand.NewPCG(1, 2))
	groups := [][]string{{"developers"}, {"contractors"}, {"sales"}, {"developers", "admins"}}
	batch := make([]store.Decision, 0, 5000)
	for i := 0; i < n; i++ {
		u := r.IntN(2000)
		at := t0.Add(time.Duration(i) * step)
		ip := netip.AddrFrom4([4]byte{198, 51, byte(u % 200), byte(r.IntN(256))})
		if r.IntN(5) == 0 {
			ip = netip.AddrFrom4([4]byte{203, 0, byte(r.IntN(256)), byte(r.IntN(256))})
		}
		req := policyeditor.Request{Now: at, IP: ip, Country: "US", Org: fmt.Sprintf("org-%d", u%40),
			User: policyeditor.User{Groups: groups[u%4], MFAAt: at.Add(-time.Duration(r.IntN(3600)) * time.Second),
				AuthMethods:  map[string]time.Time{"pwd": at.Add(-time.Duration(r.IntN(8*3600)) * time.Second)},
				Locations:    []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 51, byte(u % 200), 0}), 24)},
				ConnectionID: "conn"},
			Client: policyeditor.Client{ID: fmt.Sprintf("app-%d", u%60), Type: "web", Scopes: []string{"openid"}}}
		d := ibmPol.Evaluate(&req)
		cx, err := jsonContext(&req)
		if err != nil {
			b.Fatal(err)
		}
		batch = append(batch, store.Decision{At: at.Truncate(time.Millisecond), Point: "launch", OrgID: req.Org,
			UserID: fmt.Sprintf("u%d", u), Subject: fmt.Sprintf("user%d@example.com", u), ClientID: req.Client.ID, Context: cx,
			PolicyID: s.Policy.ID, PolicyVersion: 1, Rule: d.Rule, Action: d.Action.String(), Reason: d.Reason})
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := st.InsertDecisions(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	strict, err := policyeditor.CompileJSON([]byte(strictJSON))
	if err != nil {
		b.Fatal(err)
	}
	var total int
	var elapsed time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		rep, err := policyeditor.Replay(ctx, st, strict, policyeditor.ReplayOptions{Since: t0.Add(-time.Minute), PolicyID: s.Policy.ID})
		if err != nil || rep.Replayed != n {
			b.Fatalf("%v: replayed %d of %d", err, rep.Replayed, n)
		}
		total += rep.Replayed
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "decisions/s")
}
