package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// faultPortal is the portal served in-process on 127.0.0.1 over a database
// the test can break: a service client whose tokens are decided by a
// machine-to-machine policy, so that every token issued writes a decision.
type faultPortal struct {
	t        *testing.T
	db       string
	base     string
	svc      clientJSON
	log      *lockedBuffer
	hc       *http.Client
	ok, fail atomic.Int64
}

func newFaultPortal(t *testing.T, db string) *faultPortal {
	t.Helper()
	if storetest.Engine() == storetest.Postgres {
		t.Skip("the fault tests choose their engine themselves; they ran in the default pass")
	}
	ctx := context.Background()
	key := make([]byte, 32)
	rand.Read(key)
	secretKey := base64.StdEncoding.EncodeToString(key)
	tc := &testCLI{t: t, env: map[string]string{"PORTICO_DB": db, "PORTICO_SECRET_KEY": secretKey}}
	p := &faultPortal{t: t, db: db, log: &lockedBuffer{}, hc: &http.Client{Timeout: 30 * time.Second}}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.base = "http://" + ln.Addr().String()
	cfg := &Config{Addr: ln.Addr().String(), DB: db, Issuer: p.base, rawLogLevel: "warn", rawSecretKey: secretKey}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(p.log, &slog.HandlerOptions{Level: cfg.LogLevel}))
	c := &cli{stdout: io.Discard, stderr: p.log, getenv: func(string) string { return "" }, now: time.Now}
	app, err := wire(ctx, c, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	// The first start made the platform organization; the CLI adds the
	// rest while the portal runs, as an operator would.
	tc.mustRun("scope", "create", "--name", "orders:read")
	mustJSON(t, tc.mustRun("client", "create", "--org", platformSlug, "--name", "Sync", "--type", "service",
		"--scope", "orders:read", "--json"), &p.svc)
	doc := filepath.Join(t.TempDir(), "m2m.json")
	os.WriteFile(doc, []byte(`{"name":"Machines","kind":"machine_to_machine","rules":[],"default":"permit"}`), 0o600)
	tc.mustRun("policy", "import", doc)
	tc.mustRun("policy", "attach", "--m2m", "--policy", "Machines")
	srv := &http.Server{Handler: app.handler}
	go srv.Serve(ln)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		app.close()
	})
	if st, body := p.token(); st != http.StatusOK {
		t.Fatalf("healthy portal refused a token: %d %s", st, body)
	}
	return p
}

// token asks for a client-credentials token and counts the answer.
func (p *faultPortal) token() (int, string) {
	req, _ := http.NewRequest(http.MethodPost, p.base+"/token", strings.NewReader("grant_type=client_credentials&scope=orders%3Aread"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(p.svc.ClientID), url.QueryEscape(p.svc.ClientSecret))
	resp, err := p.hc.Do(req)
	if err != nil {
		p.t.Errorf("token request: %v", err)
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	switch resp.StatusCode {
	case http.StatusOK:
		p.ok.Add(1)
	case http.StatusServiceUnavailable:
		p.fail.Add(1)
		if resp.Header.Get("Retry-After") == "" || !bytes.Contains(body, []byte("temporarily_unavailable")) {
			p.t.Errorf("503 without Retry-After or temporarily_unavailable: %v %s", resp.Header, body)
		}
	default:
		p.t.Errorf("token during a fault: %d %s (want 200 or 503)", resp.StatusCode, body)
	}
	return resp.StatusCode, string(body)
}

// untilStatus asks for tokens (4 at a time) until one is answered want, or
// fails the test after limit.
func (p *faultPortal) untilStatus(want int, limit time.Duration, what string) {
	p.t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		var got atomic.Bool
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if st, _ := p.token(); st == want {
					got.Store(true)
				}
			})
		}
		wg.Wait()
		if got.Load() {
			return
		}
	}
	p.t.Fatalf("%s: no %d within %v\n%s", what, want, limit, p.log)
}

// checkNothingPartial: every token issued has its decision, and no refused
// request left one.
func (p *faultPortal) checkNothingPartial() {
	p.t.Helper()
	st, err := store.Open(context.Background(), p.db)
	if err != nil {
		p.t.Fatal(err)
	}
	defer st.Close()
	// Every token issued has its decision. A refused request may have one
	// too: when the connection breaks after the server committed a batch but
	// before the portal read the acknowledgement, the portal cannot know and
	// refuses (no token without a decision it knows is durable). So the log
	// holds at least one decision per token and at most one per request.
	n := int64(countDecisions(p.t, st.DB(), store.IsPostgres(p.db), "client_credentials", p.svc.ClientID))
	if ok, fail := p.ok.Load(), p.fail.Load(); n < ok || n > ok+fail {
		p.t.Errorf("%d tokens issued, %d decisions logged (503s: %d)", ok, n, fail)
	}
}

// TestFaultDatabaseLocked: another process holds SQLite's write lock past
// the busy timeout. Token requests get 503 with Retry-After, the log says
// the database is locked, and tokens flow again once the lock is released.
func TestFaultDatabaseLocked(t *testing.T) {
	if testing.Short() {
		t.Skip("holds a lock past the 10 s busy timeout")
	}
	path := filepath.Join(t.TempDir(), "portico.db")
	p := newFaultPortal(t, path)
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	p.untilStatus(http.StatusServiceUnavailable, 40*time.Second, "while locked")
	if !strings.Contains(p.log.String(), "locked") || !strings.Contains(p.log.String(), "service unavailable") {
		t.Errorf("no clear log line for the lock:\n%s", p.log)
	}
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	p.untilStatus(http.StatusOK, 20*time.Second, "after the lock is released")
	p.checkNothingPartial()
}

// smallDisk mounts a tmpfs of size bytes (root only: CI runs as root).
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the disk-full test mounts a tmpfs and needs root; CI runs as root")
		}
		t.Skip("the disk-full test mounts a small tmpfs: run as root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount tmpfs: %v %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// TestFaultDiskFull: the filesystem holding the SQLite database fills up.
// Token requests get 503 with Retry-After and no decision is half written;
// once space is freed, tokens flow again without a restart.
func TestFaultDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a tmpfs and fills it")
	}
	dir := smallDisk(t, "16m")
	p := newFaultPortal(t, filepath.Join(dir, "portico.db"))
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errorsIsNoSpace(err) {
				t.Fatalf("filling the disk: %v", err)
			}
			break
		}
	}
	f.Close()
	// The WAL reuses space it already holds: keep writing until it needs
	// more than the disk has.
	p.untilStatus(http.StatusServiceUnavailable, 60*time.Second, "with the disk full")
	if !strings.Contains(p.log.String(), "full") && !strings.Contains(p.log.String(), "disk") {
		t.Errorf("no clear log line for the full disk:\n%s", p.log)
	}
	os.Remove(filler)
	p.untilStatus(http.StatusOK, 20*time.Second, "after space was freed")
	p.checkNothingPartial()
}

func errorsIsNoSpace(err error) bool {
	var pe *os.PathError
	if e, ok := err.(*os.PathError); ok {
		pe = e
	}
	return pe != nil && pe.Err == syscall.ENOSPC
}

// TestFaultPostgresRestart: the PostgreSQL server stops under load and
// starts again. Requests meanwhile get 503 with Retry-After, and the
// portal resumes by itself. It runs its own throwaway cluster
// (scripts/pg-test-cluster.sh), never the shared test server.
func TestFaultPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops a PostgreSQL cluster")
	}
	bindir := pgBindir(t)
	// Directly under /tmp: the cluster runs as user postgres, who cannot
	// enter the test's private temporary directory.
	var r [6]byte
	rand.Read(r[:])
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("portico-fault-pg-%x", r))
	port := freePorts(t, 1)[0]
	script, _ := filepath.Abs("../../scripts/pg-test-cluster.sh")
	env := append(os.Environ(), "PG_TEST_DIR="+dir, fmt.Sprintf("PG_TEST_PORT=%d", port), "PG_BINDIR="+bindir)
	run := func(args ...string) {
		cmd := exec.Command(script, args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pg-test-cluster.sh %v: %v\n%s", args, err, out)
		}
	}
	run("start")
	t.Cleanup(func() { run("stop") })
	pgctl := func(args ...string) {
		full := append([]string{filepath.Join(bindir, "pg_ctl"), "-D", filepath.Join(dir, "data")}, args...)
		if os.Geteuid() == 0 {
			full = append([]string{"runuser", "-u", "postgres", "--"}, full...)
		}
		if out, err := exec.Command(full[0], full[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("pg_ctl %v: %v\n%s", args, err, out)
		}
	}
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	p := newFaultPortal(t, dsn)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				p.token()
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	pgctl("-m", "fast", "-w", "stop")
	p.untilStatus(http.StatusServiceUnavailable, 30*time.Second, "with PostgreSQL stopped")
	pgctl("-l", filepath.Join(dir, "server.log"), "-w", "-t", "30", "-o",
		fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -c fsync=off -c max_connections=300", port, dir), "start")
	p.untilStatus(http.StatusOK, 30*time.Second, "after PostgreSQL came back")
	close(stop)
	wg.Wait()
	if !strings.Contains(p.log.String(), "service unavailable") {
		t.Errorf("no clear log line for the outage:\n%s", p.log)
	}
	p.checkNothingPartial()
}

// pgBindir finds PostgreSQL's binaries (as scripts/pg-test-cluster.sh does).
func pgBindir(t *testing.T) string {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		return d
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p)
	}
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl"); len(m) > 0 {
		return filepath.Dir(m[len(m)-1])
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("PostgreSQL binaries not found; CI installs them")
	}
	t.Skip("PostgreSQL binaries not found (apt-get install postgresql)")
	return ""
}
