package views

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// QuickStart is an app page's "from app to first token" section: where the
// authorization server is and copy-paste code for the app's type, filled
// with the app's own values. The secret is never in it: the code reads it
// from the CLIENT_SECRET environment variable.
type QuickStart struct {
	Issuer      string
	Discovery   string
	Authorize   string
	Token       string
	UserInfo    string
	JWKS        string
	EndSession  string
	ClientID    string
	Type        string
	RedirectURI string // the app's first redirect URI, or a placeholder
	Scopes      []string
	// Public apps (single-page, native) have no secret and use PKCE alone.
	Public   bool
	Snippets []Snippet
}

// Snippet is one block of code to copy.
type Snippet struct {
	ID    string
	Title string
	Code  string
}

// NewQuickStart fills in the endpoints under issuer and the snippets for
// the app's type.
func NewQuickStart(issuer, clientID, typ string, redirectURIs, scopes []string, public bool) QuickStart {
	base := strings.TrimRight(issuer, "/")
	q := QuickStart{Issuer: base, Discovery: base + "/.well-known/openid-configuration", Authorize: base + "/authorize",
		Token: base + "/token", UserInfo: base + "/userinfo", JWKS: base + "/jwks", EndSession: base + "/end_session",
		ClientID: clientID, Type: typ, Scopes: scopes, Public: public, RedirectURI: "https://app.example/callback"}
	if len(redirectURIs) > 0 {
		q.RedirectURI = redirectURIs[0]
	}
	if typ == "service" {
		q.Snippets = []Snippet{
			{ID: "snippet-curl", Title: "curl", Code: q.curl()},
			{ID: "snippet-go", Title: "Go (golang.org/x/oauth2)", Code: q.goService()},
		}
		return q
	}
	if len(q.Scopes) == 0 {
		q.Scopes = []string{"openid"}
	}
	q.Snippets = []Snippet{
		{ID: "snippet-go", Title: "Go (golang.org/x/oauth2 + go-oidc)", Code: q.goWeb()},
		{ID: "snippet-node", Title: "Node.js (openid-client)", Code: q.node()},
		{ID: "snippet-python", Title: "Python (Authlib, Flask)", Code: q.python()},
	}
	return q
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// jsString is s as a JavaScript and Python string literal (JSON's syntax
// is valid in both).
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func goStrings(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[]string{" + strings.Join(q, ", ") + "}"
}

func (q QuickStart) scope() string { return strings.Join(q.Scopes, " ") }

func (q QuickStart) insecure() bool { return strings.HasPrefix(q.Issuer, "http://") }

func (q QuickStart) curl() string {
	var b strings.Builder
	b.WriteString(`: "${CLIENT_SECRET:?set CLIENT_SECRET to the secret shown when the app was created or its secret rotated}"` + "\n")
	b.WriteString("curl -sS -u " + shellQuote(q.ClientID) + `:"$CLIENT_SECRET" \` + "\n")
	b.WriteString("  -d grant_type=client_credentials \\\n")
	if len(q.Scopes) > 0 {
		b.WriteString("  -d scope=" + shellQuote(q.scope()) + " \\\n")
	}
	b.WriteString("  " + shellQuote(q.Token) + "\n")
	return b.String()
}

func (q QuickStart) goService() string {
	return `package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"golang.org/x/oauth2/clientcredentials"
)

func main() {
	cfg := clientcredentials.Config{
		ClientID:     ` + strconv.Quote(q.ClientID) + `,
		ClientSecret: os.Getenv("CLIENT_SECRET"),
		TokenURL:     ` + strconv.Quote(q.Token) + `,
		Scopes:       ` + goStrings(q.Scopes) + `,
	}
	tok, err := cfg.Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.AccessToken)
	// cfg.Client(ctx) is an *http.Client that adds the token to each request.
}
`
}

func (q QuickStart) redirectPath() string {
	if u, err := url.Parse(q.RedirectURI); err == nil && u.Path != "" {
		return u.Path
	}
	return "/callback"
}

func (q QuickStart) goWeb() string {
	secret, osImport := `
		ClientSecret: os.Getenv("CLIENT_SECRET"),`, `
	"os"`
	if q.Public {
		secret, osImport = "", ""
	}
	return `package main

import (
	"context"
	"log"
	"net/http"` + osImport + `

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func main() {
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, ` + strconv.Quote(q.Issuer) + `)
	if err != nil {
		log.Fatal(err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: ` + strconv.Quote(q.ClientID) + `})
	conf := oauth2.Config{
		ClientID:     ` + strconv.Quote(q.ClientID) + `,` + secret + `
		Endpoint:     provider.Endpoint(),
		RedirectURL:  ` + strconv.Quote(q.RedirectURI) + `,
		Scopes:       ` + goStrings(q.Scopes) + `,
	}
	// Keep state and the PKCE verifier in the user's session; one pair
	// is shown here for brevity.
	state, pkce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	http.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(pkce)), http.StatusFound)
	})
	http.HandleFunc(` + strconv.Quote(q.redirectPath()) + `, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("state") != state {
			http.Error(w, "bad state", http.StatusBadRequest)
			return
		}
		tok, err := conf.Exchange(r.Context(), r.URL.Query().Get("code"), oauth2.VerifierOption(pkce))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		raw, _ := tok.Extra("id_token").(string)
		idToken, err := verifier.Verify(r.Context(), raw)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var claims map[string]any
		idToken.Claims(&claims)
		log.Printf("signed in: %v", claims)
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
`
}

func (q QuickStart) node() string {
	auth := "process.env.CLIENT_SECRET, undefined"
	if q.Public {
		auth = "undefined, client.None()"
	}
	insecure := ""
	if q.insecure() {
		auth += ", { execute: [client.allowInsecureRequests] }"
		insecure = "// An http issuer is allowed for development only.\n"
	}
	return `import * as client from 'openid-client'

` + insecure + `const config = await client.discovery(new URL(` + jsString(q.Issuer) + `), ` + jsString(q.ClientID) + `, ` + auth + `)

// Sign-in: keep codeVerifier and state in the user's session.
const codeVerifier = client.randomPKCECodeVerifier()
const state = client.randomState()
const signInURL = client.buildAuthorizationUrl(config, {
  redirect_uri: ` + jsString(q.RedirectURI) + `,
  scope: ` + jsString(q.scope()) + `,
  code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
  code_challenge_method: 'S256',
  state,
})

// Callback: currentURL is the full URL the browser came back to.
const tokens = await client.authorizationCodeGrant(config, currentURL, {
  pkceCodeVerifier: codeVerifier,
  expectedState: state,
})
console.log(tokens.claims())
`
}

func (q QuickStart) python() string {
	secret := `
    client_secret=os.environ["CLIENT_SECRET"],`
	kwargs := `{"scope": ` + jsString(q.scope()) + `, "code_challenge_method": "S256"}`
	if q.Public {
		secret = ""
		kwargs = `{"scope": ` + jsString(q.scope()) + `, "code_challenge_method": "S256", "token_endpoint_auth_method": "none"}`
	}
	return `import os
from authlib.integrations.flask_client import OAuth
from flask import Flask

app = Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET_KEY"]
oauth = OAuth(app)
oauth.register(
    name="portico",
    client_id=` + jsString(q.ClientID) + `,` + secret + `
    server_metadata_url=` + jsString(q.Discovery) + `,
    client_kwargs=` + kwargs + `,
)


@app.route("/login")
def login():
    return oauth.portico.authorize_redirect(` + jsString(q.RedirectURI) + `)


@app.route(` + jsString(q.redirectPath()) + `)
def callback():
    token = oauth.portico.authorize_access_token()
    return token["userinfo"]
`
}
