package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"portico/store"
)

type countingSweeper struct{ n atomic.Int64 }

func (c *countingSweeper) Sweep(context.Context) (int64, error) { c.n.Add(1); return 0, nil }

// TestHousekeeperRunsAndStops: the purge runs at start and on every tick,
// removes expired sessions from the real store, and stop ends it for good.
func TestHousekeeperRunsAndStops(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "portico.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC().Truncate(time.Millisecond)
	org := store.Organization{Slug: "acme", Name: "Acme"}
	if err := st.CreateOrganization(ctx, &org); err != nil {
		t.Fatal(err)
	}
	u := store.User{OrgID: org.ID, Email: "ann@acme.example", Name: "Ann", Role: store.RoleMember}
	if err := st.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	expired := store.Session{UserID: u.ID, CreatedAt: now.Add(-2 * time.Hour), LastSeenAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}
	live := store.Session{UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	for i, s := range []*store.Session{&expired, &live} {
		if err := st.CreateSession(ctx, s, string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}

	abandoned := store.PendingLogin{StateHash: "s", BrowserHash: "b", OrgID: org.ID, CreatedAt: now.Add(-time.Hour),
		ExpiresAt: now.Add(-time.Minute)}
	if err := st.CreatePendingLogin(ctx, &abandoned); err != nil {
		t.Fatal(err)
	}

	sw := &countingSweeper{}
	stop := housekeeper{OAuth: sw, Sessions: st, Now: func() time.Time { return now },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Every: 10 * time.Millisecond}.start(ctx)
	deadline := time.After(5 * time.Second)
	for sw.n.Load() < 3 {
		select {
		case <-deadline:
			stop()
			t.Fatalf("%d sweeps in 5s at a 10ms interval", sw.n.Load())
		case <-time.After(5 * time.Millisecond):
		}
	}
	stop()
	stop() // idempotent: closers may run it twice
	after := sw.n.Load()
	time.Sleep(50 * time.Millisecond)
	if n := sw.n.Load(); n != after {
		t.Fatalf("%d sweeps after stop", n-after)
	}
	left, err := st.UserSessions(ctx, u.ID, now.Add(-3*time.Hour)) // a clock before both, to see the expired one if it survived
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].ID != live.ID {
		t.Fatalf("sessions after housekeeping: %+v", left)
	}
	if there, err := st.TakePendingLogin(ctx, abandoned.ID); err != nil || there {
		t.Fatalf("an abandoned sign-in survived housekeeping: %v %v", there, err)
	}
}

// TestWireStartsHousekeeping: the portal's wiring purges at start (an
// expired session planted before it is gone without any request), and
// closing the app stops the purge along with everything else.
func TestWireStartsHousekeeping(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portico.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	org := store.Organization{Slug: "acme", Name: "Acme"}
	if err := st.CreateOrganization(ctx, &org); err != nil {
		t.Fatal(err)
	}
	u := store.User{OrgID: org.ID, Email: "ann@acme.example", Name: "Ann", Role: store.RoleMember}
	if err := st.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour)
	if err := st.CreateSession(ctx, &store.Session{UserID: u.ID, CreatedAt: past, LastSeenAt: past, ExpiresAt: past}, "h"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	c := &cli{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
	cfg, err := c.parseConfig([]string{"--db", path, "--addr", "127.0.0.1:0", "--issuer", "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := wire(ctx, c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		left, err := a.store.UserSessions(ctx, u.ID, past.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the expired session is still there 5s after wiring")
		}
	}
}

// TestRouteLinesDemoted: op's "registered route" lines are gone at info and
// kept, at debug, when debug is on; other lines pass unchanged.
func TestRouteLinesDemoted(t *testing.T) {
	for _, tc := range []struct {
		level     slog.Level
		wantRoute bool
	}{{slog.LevelInfo, false}, {slog.LevelDebug, true}} {
		var buf bytes.Buffer
		log := slog.New(demoteOpRoutes(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tc.level}))).With("k", "v")
		log.Info(opRouteMessage, "endpoint", "/token")
		log.Info("Portico is listening")
		out := buf.String()
		if got := bytes.Contains(buf.Bytes(), []byte(opRouteMessage)); got != tc.wantRoute {
			t.Errorf("level %v: route line shown = %v\n%s", tc.level, got, out)
		}
		if tc.wantRoute && !bytes.Contains(buf.Bytes(), []byte("level=DEBUG msg=\"registered route\" k=v")) {
			t.Errorf("route line not demoted to debug with its attributes:\n%s", out)
		}
		if !bytes.Contains(buf.Bytes(), []byte("level=INFO msg=\"Portico is listening\"")) {
			t.Errorf("other lines lost:\n%s", out)
		}
	}
}

// TestHousekeeperRetention: decisions and audit events past their retention
// are deleted in bounded batches (more rows than one batch), newer ones are
// kept, and the WAL is checkpointed down to nothing.
func TestHousekeeperRetention(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portico.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC().Truncate(time.Millisecond)
	var ds []store.Decision
	for i := range purgeBatch + 500 {
		ds = append(ds, store.Decision{At: now.Add(-31*24*time.Hour - time.Duration(i)*time.Second), Point: "token", Action: "permit"})
	}
	recent := store.Decision{At: now.Add(-29 * 24 * time.Hour), Point: "token", Action: "deny"}
	ds = append(ds, recent)
	if _, err := st.InsertDecisions(ctx, ds); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{now.Add(-400 * 24 * time.Hour), now.Add(-300 * 24 * time.Hour)} {
		if err := st.RecordAudit(ctx, &store.AuditEvent{At: at, Actor: "cli", Action: "org.update"}); err != nil {
			t.Fatal(err)
		}
	}
	h := housekeeper{OAuth: &countingSweeper{}, Sessions: st, Logs: st, DecisionRetention: defaultDecisionRetention,
		AuditRetention: defaultAuditRetention, Now: func() time.Time { return now },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h.runOnce(ctx)
	left, err := st.Decisions(ctx, store.DecisionFilter{Limit: 5000})
	if err != nil || len(left) != 1 || left[0].ID != ds[len(ds)-1].ID {
		t.Fatalf("decisions left: %v %d", err, len(left))
	}
	events, err := st.AuditEvents(ctx, store.AuditFilter{})
	if err != nil || len(events) != 1 || !events[0].At.Equal(now.Add(-300*24*time.Hour)) {
		t.Fatalf("audit events left: %v %+v", err, events)
	}
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() != 0 {
		t.Fatalf("WAL after the checkpoint: %v size %d", err, fi.Size())
	}
}

func TestParseRetention(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 7 * time.Hour, "0": 0, "30d": 30 * 24 * time.Hour, "36h": 36 * time.Hour} {
		if got, err := parseRetention(in, 7*time.Hour); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"-1d", "10m", "abc", "0d"} {
		if _, err := parseRetention(in, time.Hour); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
