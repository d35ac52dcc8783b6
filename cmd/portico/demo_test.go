package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"portico/policyeditor"
)

// TestDemoSeedsOnceWithAppsAndPolicy wires the portal with --demo twice on
// one database: the first run seeds the organization, its two apps and
// IBM's policy on the web app; the second finds them and adds nothing.
func TestDemoSeedsOnceWithAppsAndPolicy(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "portico.db")
	var outputs []string
	for i := 0; i < 2; i++ {
		var out bytes.Buffer
		c := &cli{stdout: &out, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
		cfg, err := c.parseConfig([]string{"--db", db, "--demo"})
		if err != nil {
			t.Fatal(err)
		}
		a, err := wire(ctx, c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		a.close()
		outputs = append(outputs, out.String())
	}
	if !strings.Contains(outputs[0], "client_secret:") || strings.Contains(outputs[1], "Demo data") {
		t.Fatalf("first run:\n%s\nsecond run:\n%s", outputs[0], outputs[1])
	}
	st, err := (&cli{now: time.Now}).openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acme, err := st.OrganizationBySlug(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	apps, err := st.Clients(ctx, acme.ID)
	if err != nil || len(apps) != 2 {
		t.Fatalf("%v %d apps", err, len(apps))
	}
	attached := 0
	for _, a := range apps {
		if a.PolicyID != "" {
			attached++
		}
	}
	if attached != 1 {
		t.Fatalf("%d apps carry a policy, want the web app only", attached)
	}
	// The Customers API policy guards /customers, and is the seed example
	// the policy tests use.
	routes, err := st.APIRoutes(ctx, "")
	if err != nil || len(routes) != 1 || routes[0].PathPrefix != "/customers" {
		t.Fatalf("api routes: %+v %v", routes, err)
	}
	seed, err := os.ReadFile("../../policyeditor/testdata/api_customers.json")
	if err != nil {
		t.Fatal(err)
	}
	var a, b policyeditor.Document
	if err := json.Unmarshal(seed, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(demoAPIPolicy), &b); err != nil {
		t.Fatal(err)
	}
	a.Description, b.Description = "", ""
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the demo's Customers API policy differs from policyeditor/testdata/api_customers.json")
	}
}
