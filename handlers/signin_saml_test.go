package handlers_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/beevik/etree"
	crewsaml "github.com/crewjam/saml"
	"github.com/crewjam/saml/samlidp"
	"golang.org/x/crypto/bcrypt"

	"portico/handlers/handlerstest"
	"portico/store"
)

// samlIdP is crewjam's samlidp running in the test.
type samlIdP struct {
	URL string
	srv *samlidp.Server
}

func newSAMLIdP(t *testing.T) *samlIdP {
	t.Helper()
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test idp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	hs := httptest.NewUnstartedServer(nil)
	u, _ := url.Parse("http://" + hs.Listener.Addr().String())
	srv, err := samlidp.New(samlidp.Options{URL: *u, Key: key, Certificate: cert, Store: &samlidp.MemoryStore{}})
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = srv
	hs.Start()
	t.Cleanup(hs.Close)
	return &samlIdP{URL: hs.URL, srv: srv}
}

func (i *samlIdP) user(t *testing.T, name, email, password string, groups ...string) {
	t.Helper()
	h, _ := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err := i.srv.Store.Put("/users/"+name, samlidp.User{Name: name, Email: email, HashedPassword: h,
		Groups: groups, CommonName: strings.ToUpper(name[:1]) + name[1:]}); err != nil {
		t.Fatal(err)
	}
}

// trust registers the portal's SP metadata at the IdP; plain strips the
// SP's keys so the IdP sends a plain-text (not encrypted) assertion.
func (i *samlIdP) trust(t *testing.T, metadata []byte, plain bool) {
	t.Helper()
	var ed crewsaml.EntityDescriptor
	if err := xml.Unmarshal(metadata, &ed); err != nil {
		t.Fatal(err)
	}
	if plain {
		for k := range ed.SPSSODescriptors {
			ed.SPSSODescriptors[k].KeyDescriptors = nil
		}
	}
	body, _ := xml.Marshal(ed)
	req, _ := http.NewRequest(http.MethodPut, i.URL+"/services/portico", bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("registering the SP at the IdP: %d", resp.StatusCode)
	}
}

// samlResponse signs in at the IdP and returns the SAMLResponse and
// RelayState its auto-post form carries.
func (p *signInPortal) samlResponse(t *testing.T, c *handlerstest.Client, idp *samlIdP, email, user, password string) (string, string) {
	t.Helper()
	r := c.Post("/login", url.Values{"email": {email}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /login: %d %s", r.StatusCode, pageError(r.Body))
	}
	sso := r.Header.Get("Location")
	login := follow(t, c, http.MethodPost, idp.URL+"/login", url.Values{"user": {user}, "password": {password}})
	login.Body.Close()
	resp := follow(t, c, http.MethodGet, sso, nil)
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	saml, _ := doc.Find(`input[name="SAMLResponse"]`).Attr("value")
	relay, _ := doc.Find(`input[name="RelayState"]`).Attr("value")
	if saml == "" {
		t.Fatalf("the IdP gave no SAMLResponse (status %d)", resp.StatusCode)
	}
	return saml, relay
}

// post delivers a SAML response to the ACS, then follows to the callback.
func (p *signInPortal) post(t *testing.T, c *handlerstest.Client, samlResponse, relay string) (int, string) {
	t.Helper()
	r := follow(t, c, http.MethodPost, p.URL+"/login/saml/acs", url.Values{"SAMLResponse": {samlResponse}, "RelayState": {relay}})
	if r.StatusCode == http.StatusSeeOther {
		r.Body.Close()
		r = follow(t, c, http.MethodGet, p.absolute(r.Header.Get("Location")), nil)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, pageError(string(b))
}

func TestSAMLSignIn(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	p := newSignInPortal(t, func(c *handlersConfig) { c.Now = clock })
	globex := p.Org(t, "globex", "globex.example")
	idp := newSAMLIdP(t)
	idp.user(t, "grace", "grace@globex.example", "idp-password", "engineering", "admins")
	x := p.connection(t, globex, "saml", "Globex SAML", "", map[string]string{"metadata_url": idp.URL + "/metadata"})

	meta := p.Client(t).Get("/login/saml/metadata/" + x.ID)
	if meta.StatusCode != http.StatusOK || !strings.Contains(meta.Body, p.URL+"/login/saml/acs") {
		t.Fatalf("SP metadata: %d\n%s", meta.StatusCode, meta.Body)
	}

	t.Run("encrypted, signed assertion signs in", func(t *testing.T) {
		idp.trust(t, []byte(meta.Body), false)
		c := p.Client(t)
		resp, relay := p.samlResponse(t, c, idp, "grace@globex.example", "grace", "idp-password")
		if status, msg := p.post(t, c, resp, relay); status != http.StatusSeeOther {
			t.Fatalf("status %d: %s", status, msg)
		}
		if got := whoAmI(t, c); got != "Grace · Globex" {
			t.Errorf("signed in as %q", got)
		}
		u, err := p.Store.UserByEmail(context.Background(), globex.ID, "grace@globex.example")
		if err != nil || u.Role != store.RoleMember || !slices.Equal(u.IdPGroups, []string{"admins", "engineering"}) {
			t.Fatalf("provisioned %+v %v", u, err)
		}
		// The same response cannot be used twice.
		if status, _ := p.post(t, c, resp, relay); status != http.StatusBadRequest {
			t.Errorf("replay: %d", status)
		}
	})
	t.Run("unsigned assertion is refused", func(t *testing.T) {
		idp.trust(t, []byte(meta.Body), true)
		c := p.Client(t)
		resp, relay := p.samlResponse(t, c, idp, "grace@globex.example", "grace", "idp-password")
		raw, _ := base64.StdEncoding.DecodeString(resp)
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(raw); err != nil {
			t.Fatal(err)
		}
		stripped := 0
		for _, sig := range doc.FindElements("//Signature") {
			sig.Parent().RemoveChild(sig)
			stripped++
		}
		if stripped == 0 {
			t.Fatal("the IdP's response had no signature to strip")
		}
		out, _ := doc.WriteToBytes()
		status, msg := p.post(t, c, base64.StdEncoding.EncodeToString(out), relay)
		if status != http.StatusBadRequest || !strings.Contains(msg, "could not be verified") {
			t.Fatalf("unsigned: %d %q", status, msg)
		}
	})
	t.Run("expired assertion is refused", func(t *testing.T) {
		idp.trust(t, []byte(meta.Body), false)
		c := p.Client(t)
		resp, relay := p.samlResponse(t, c, idp, "grace@globex.example", "grace", "idp-password")
		// Past the assertion's validity and clock skew, within the pending
		// sign-in's ten minutes: the assertion itself must be what fails.
		now = now.Add(5 * time.Minute)
		defer func() { now = now.Add(-5 * time.Minute) }()
		status, msg := p.post(t, c, resp, relay)
		if status != http.StatusBadRequest || !strings.Contains(msg, "could not be verified") {
			t.Fatalf("expired: %d %q", status, msg)
		}
	})
}
