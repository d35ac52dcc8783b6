package handlers

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"portico/store"
)

// TestOpsEntryFresh: the platform overview is reused only at the data
// version it was read at, for less than opsMaxAge on the monotonic clock
// and on the injected one, which must not have gone backwards.
func TestOpsEntryFresh(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	e := &opsEntry{version: 7, made: int64(time.Hour), now: at}
	mono := func(d time.Duration) int64 { return int64(time.Hour + d) }
	for _, tc := range []struct {
		name    string
		mono    int64
		now     time.Time
		version int64
		want    bool
	}{
		{"same moment", mono(0), at, 7, true},
		{"a moment later", mono(time.Second), at.Add(time.Second), 7, true},
		{"data changed", mono(time.Second), at.Add(time.Second), 8, false},
		{"old by the monotonic clock", mono(opsMaxAge), at, 7, false},
		{"old by the injected clock", mono(time.Second), at.Add(opsMaxAge), 7, false},
		{"injected clock went back", mono(time.Second), at.Add(-time.Second), 7, false},
	} {
		if got := e.fresh(tc.mono, tc.now, tc.version); got != tc.want {
			t.Errorf("%s: fresh %v, want %v", tc.name, got, tc.want)
		}
	}
	var none *opsEntry
	if none.fresh(mono(0), at, 7) {
		t.Error("no entry is fresh")
	}
}

// TestPagesNavIsPerViewerAndPage: the navigation drawn once is shared only
// by viewers who see the same entries on the same page: a member after a
// platform admin sees no platform link, and the current page is marked on
// each page.
func TestPagesNavIsPerViewerAndPage(t *testing.T) {
	p := &Pages{}
	p.AddNav("Apps", "/", anyone)
	p.AddNav("Account", "/account", anyone)
	p.AddNav("Organizations", "/admin/orgs", func(v *Viewer) bool { return v.User.PlatformAdmin })
	e := echo.New()
	nav := func(v *Viewer, path string) (string, any) {
		t.Helper()
		c := e.NewContext(httptest.NewRequest(http.MethodGet, path, nil), httptest.NewRecorder())
		c.Set(viewerKey, v)
		pg := p.Page(c, "t")
		var b bytes.Buffer
		if err := pg.Nav.Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		return b.String(), pg.Nav
	}
	admin := &Viewer{User: store.User{Name: "Root", PlatformAdmin: true}}
	member := &Viewer{User: store.User{Name: "Ann"}}
	a1, n1 := nav(admin, "/")
	if !strings.Contains(a1, `href="/admin/orgs"`) || !strings.Contains(a1, `<a href="/" aria-current="page">`) {
		t.Errorf("admin on /: %s", a1)
	}
	if _, n2 := nav(admin, "/"); n2 != n1 {
		t.Error("the same viewer kind on the same page drew the navigation again")
	}
	m1, _ := nav(member, "/")
	if strings.Contains(m1, "/admin/orgs") || !strings.Contains(m1, `<a href="/" aria-current="page">`) {
		t.Errorf("member on /: %s", m1)
	}
	m2, _ := nav(member, "/account/mfa")
	if !strings.Contains(m2, `<a href="/account" aria-current="page">`) || strings.Contains(m2, `<a href="/" aria-current`) {
		t.Errorf("member on /account/mfa: %s", m2)
	}
	if a2, _ := nav(admin, "/admin/orgs/acme"); !strings.Contains(a2, `<a href="/admin/orgs" aria-current="page">`) {
		t.Errorf("admin on an organization's page: %s", a2)
	}
}
