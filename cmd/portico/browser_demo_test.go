package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"portico/e2e"
	"portico/policyeditor"
	"portico/store"
	"portico/store/storetest"
)

// TestBrowserDemoLaunchEndsOnTheDemoApp: with --demo, launching the demo
// web app ends on Portico's own sample relying party, which signed the
// person in through the authorization server and shows the verified ID
// token's claims, instead of on a host that does not resolve. (The app's
// IBM policy, which would first ask for MFA at a new location, is
// detached here; the launch tests play the policy.)
func TestBrowserDemoLaunchEndsOnTheDemoApp(t *testing.T) {
	ctx := e2e.Browser(t)
	db := storetest.DSN(t)
	base, _ := startPortal(t, "--db", db, "--demo")

	bg := context.Background()
	st, err := store.Open(bg, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acme, err := st.OrganizationBySlug(bg, "acme")
	if err != nil {
		t.Fatal(err)
	}
	apps, _ := st.Clients(bg, acme.ID)
	i := slices.IndexFunc(apps, func(c store.Client) bool { return c.Name == demoWikiName })
	if i < 0 {
		t.Fatal("no demo web app")
	}
	wiki := apps[i]
	if wiki.LaunchURL != base+"/demo-app/login" {
		t.Fatalf("the demo app launches at %q", wiki.LaunchURL)
	}
	if err := (&policyeditor.Service{Store: st}).Detach(bg, store.Actor{Label: "test"}, policyeditor.Target{ClientID: wiki.ClientID}); err != nil {
		t.Fatal(err)
	}

	signInWithPassword(t, ctx, base, "dev@acme.example", demoPassword)
	e2e.Do(t, ctx,
		chromedp.WaitVisible(chromedp.CSS("#launch-"+wiki.ClientID)),
		chromedp.Click(chromedp.CSS("#launch-"+wiki.ClientID)),
		chromedp.WaitVisible(chromedp.CSS("#claims, #consent-allow")),
	)
	if consent, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("consent-allow") !== null`)); consent {
		e2e.Do(t, ctx, chromedp.Click(chromedp.CSS("#consent-allow")), chromedp.WaitVisible(chromedp.CSS("#claims")))
	}
	if loc := e2e.Location(t, ctx); !strings.HasPrefix(loc, base+"/demo-app/callback") {
		t.Errorf("the launch ended at %s", loc)
	}
	claims := e2e.Text(t, ctx, "#claims")
	for _, want := range []string{`"email": "dev@acme.example"`, `"iss": "` + base + `"`, wiki.ClientID} {
		if !strings.Contains(claims, want) {
			t.Errorf("the claims lack %s:\n%s", want, claims)
		}
	}
}
