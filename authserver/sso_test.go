package authserver_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"portico/authserver"
	"portico/store"
)

// scriptedGate answers every authorize question with action and counts the
// questions.
type scriptedGate struct {
	mu     sync.Mutex
	action authserver.Action
	calls  int
	// tentative counts the questions asked tentatively (not to be logged
	// if the answer is a Challenge).
	tentative int
}

func (g *scriptedGate) Check(_ context.Context, r authserver.GateRequest) (authserver.Verdict, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r.Point != authserver.PointAuthorize {
		return authserver.Verdict{Action: authserver.Permit}, nil
	}
	g.calls++
	if r.Tentative {
		g.tentative++
	}
	if g.action == authserver.Challenge && r.Context.SteppedUp {
		return authserver.Verdict{Action: authserver.Permit}, nil
	}
	return authserver.Verdict{Action: g.action, Reason: "scripted " + g.action.String()}, nil
}

func (g *scriptedGate) set(a authserver.Action) (calls int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	calls, g.calls, g.tentative, g.action = g.calls, 0, 0, a
	return calls
}

// ssoWorld is a world whose browser is signed in at the portal: /authorize
// sees the session (WithSignedIn) with what the login page would be told.
func ssoWorld(t *testing.T) (*world, *scriptedGate) {
	g := &scriptedGate{action: authserver.Permit}
	w := newWorld(t, func(c *authserver.Config) { c.Gate = authserver.Chain{authserver.DefaultGate{}, g} })
	// The session began when the world did; the login page is told the same.
	signedInAt := w.clock()
	w.login = func(string) authserver.LoginUser {
		return authserver.LoginUser{UserID: w.user.ID, AuthTime: signedInAt, AMR: []string{"pwd"}}
	}
	w.signedIn = func(context.Context) (authserver.LoginUser, bool) { return w.login(""), true }
	return w, g
}

func (w *world) visits() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.loginVisits
}

func (w *world) firstParty(c store.Client) {
	w.t.Helper()
	if _, err := w.reg.SetFirstParty(w.ctx, c.OrgID, c.ClientID, cli, true); err != nil {
		w.t.Fatal(err)
	}
}

// TestSingleSignOnAtAuthorize: for a signed-in person, /authorize itself
// answers with the code (state and iss included, single-use, PKCE and
// dpop_jkt bound, pushed requests too), asking the gate once; what needs a
// page (a fresher sign-in, an acr the session lacks, consent, a
// Challenge) goes to the login page with the request stored, and a Deny
// goes to the client as access_denied.
func TestSingleSignOnAtAuthorize(t *testing.T) {
	w, g := ssoWorld(t)
	web, secret := w.web("orders:read")
	w.firstParty(web)

	verifier, challenge := pkce()
	q := url.Values{"response_type": {"code"}, "client_id": {web.ClientID}, "redirect_uri": {redirectBase},
		"scope": {"openid orders:read"}, "state": {"st"}, "nonce": {"n0"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	u, status, body := w.authorize(q)
	if u == nil || status != http.StatusFound || u.Query().Get("code") == "" || u.Query().Get("state") != "st" || u.Query().Get("iss") != w.issuer {
		t.Fatalf("signed in: %d %v %s", status, u, body)
	}
	if n := w.visits(); n != 0 {
		t.Fatalf("the login page was visited %d times", n)
	}
	if n := g.set(authserver.Permit); n != 1 {
		t.Fatalf("the gate was asked %d times, want once", n)
	}
	form := codeForm(web.ClientID, u.Query().Get("code"), "wrong-verifier-"+strings.Repeat("x", 43))
	wantOAuthError(t, w.send("/token", form, web.ClientID, secret), 400, "invalid_grant")
	form = codeForm(web.ClientID, u.Query().Get("code"), verifier)
	if r := w.send("/token", form, web.ClientID, secret); r.status != 200 || r.str("id_token") == "" {
		t.Fatalf("token: %d %v", r.status, r.body)
	}
	wantOAuthError(t, w.send("/token", form, web.ClientID, secret), 400, "invalid_grant")

	// dpop_jkt binds the code made here too.
	spa := w.spa("orders:read")
	w.firstParty(spa)
	k := newDPoPKey(t)
	htu := w.issuer + "/token"
	code, v := w.codeWith(spa.ClientID, "orders:read", url.Values{"dpop_jkt": {k.jkt}})
	spaForm := codeForm(spa.ClientID, code, v)
	wantOAuthError(t, w.send("/token", spaForm, "", "", newDPoPKey(t).proof("POST", htu, w.clock(), proofOpts{})), 400, "invalid_grant")
	if r := w.send("/token", spaForm, "", "", k.proof("POST", htu, w.clock(), proofOpts{})); r.status != 200 {
		t.Fatalf("with the bound key: %d %v", r.status, r.body)
	}

	// A pushed request.
	verifier, challenge = pkce()
	ru := w.push(authParams(web.ClientID, challenge), web.ClientID, secret).str("request_uri")
	if u, status, body := w.authorizeURI(web.ClientID, ru); u == nil || u.Query().Get("code") == "" || u.Query().Get("iss") != w.issuer {
		t.Fatalf("pushed: %d %v %s", status, u, body)
	} else if r := w.send("/token", codeForm(web.ClientID, u.Query().Get("code"), verifier), web.ClientID, secret); r.status != 200 {
		t.Fatalf("pushed, token: %d %v", r.status, r.body)
	}
	if n := w.visits(); n != 0 {
		t.Fatalf("the login page was visited %d times", n)
	}

	// Requests that need a page go there, with nothing asked of the gate
	// for those refused before it.
	w.advance(time.Minute)
	for _, c := range []struct {
		name  string
		extra url.Values
		gate  int
	}{
		{"prompt=login", url.Values{"prompt": {"login"}}, 0},
		{"max_age", url.Values{"max_age": {"30"}}, 0},
		{"acr_values", url.Values{"acr_values": {authserver.ACRPhishingResistant}}, 0},
	} {
		before := w.visits()
		g.set(authserver.Permit)
		q := url.Values{"response_type": {"code"}, "client_id": {web.ClientID}, "redirect_uri": {redirectBase},
			"scope": {"orders:read"}, "state": {"st"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		for k, v := range c.extra {
			q[k] = v
		}
		w.authorize(q)
		if w.visits() != before+1 {
			t.Errorf("%s: the login page was not visited", c.name)
		}
		if n := g.set(authserver.Permit); n > c.gate {
			t.Errorf("%s: the gate was asked %d times, want at most %d (the login page's)", c.name, n, c.gate)
		}
	}

	// A third-party app without consent: the login page (which allows it
	// here), and the gate asked by the login page only.
	third, thirdSecret := w.web("orders:read")
	before := w.visits()
	verifier, challenge = pkce()
	code = w.codeFor(third.ClientID, "orders:read", challenge)
	if w.visits() != before+1 || g.set(authserver.Permit) != 2 {
		t.Fatal("a third-party app without consent did not go through the login page's consent")
	}
	if r := w.send("/token", codeForm(third.ClientID, code, verifier), third.ClientID, thirdSecret); r.status != 200 {
		t.Fatalf("third-party, token: %d %v", r.status, r.body)
	}
	// Once allowed, it comes back without a page.
	before = w.visits()
	w.codeFor(third.ClientID, "orders:read", challenge)
	if w.visits() != before {
		t.Fatal("an allowed third-party app went through the login page")
	}

	// A Deny: access_denied at the client, from /authorize itself.
	g.set(authserver.Deny)
	before = w.visits()
	u, _, _ = w.authorize(q)
	if u == nil || u.Query().Get("error") != "access_denied" || u.Query().Get("state") != "st" || u.Query().Get("iss") != w.issuer ||
		w.visits() != before {
		t.Fatalf("deny: %v", u)
	}
	if n := g.set(authserver.Challenge); n != 1 {
		t.Fatalf("deny: the gate was asked %d times", n)
	}

	// A Challenge: the login page runs the step-up (here: fails it).
	u, status, body = w.authorize(q)
	if w.visits() != before+1 || u != nil || status != http.StatusForbidden || !strings.Contains(body, "step-up") {
		t.Fatalf("challenge: %d %v %s", status, u, body)
	}
	// Asked tentatively at /authorize (a Challenge there is not logged),
	// then by the login page and once more for what follows the step-up:
	// the attempt has one Challenge in the decision log.
	g.mu.Lock()
	calls, tentative := g.calls, g.tentative
	g.mu.Unlock()
	if calls != 3 || tentative != 1 {
		t.Fatalf("challenge: asked %d times, %d tentatively; want 3 and 1", calls, tentative)
	}
}
