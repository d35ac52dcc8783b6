// Package portico_test keeps the architecture honest: imports point one way,
// cmd → handlers → (authserver, policyeditor, federation, partners, scim, webhooks,
// views) → store, with netguard (the upstream-request guard) below them all and
// metrics standing alone, and echo
// stays inside handlers so a move to echo v5 stays there too.
package portico_test

import (
	"os/exec"
	"strings"
	"testing"
)

// forbidden maps a package (prefix) to imports (prefixes) it must not have.
var forbidden = map[string][]string{
	"portico/store":        {"portico/handlers", "portico/authserver", "portico/policyeditor", "portico/federation", "portico/partners", "portico/views", "portico/cmd", "github.com/labstack/echo"},
	"portico/authserver":   {"portico/handlers", "portico/views", "portico/policyeditor", "portico/partners", "portico/cmd", "github.com/labstack/echo", "github.com/a-h/templ"},
	"portico/policyeditor": {"portico/handlers", "portico/views", "portico/authserver", "portico/federation", "portico/partners", "portico/cmd", "github.com/labstack/echo", "github.com/a-h/templ"},
	"portico/federation":   {"portico/handlers", "portico/views", "portico/authserver", "portico/policyeditor", "portico/partners", "portico/cmd", "github.com/labstack/echo"},
	"portico/partners":     {"portico/handlers", "portico/views", "portico/authserver", "portico/policyeditor", "portico/cmd", "github.com/labstack/echo"},
	"portico/views":        {"portico/handlers", "portico/authserver", "portico/policyeditor", "portico/federation", "portico/partners", "portico/cmd", "github.com/labstack/echo", "database/sql"},
	"portico/scim":         {"portico/handlers", "portico/views", "portico/authserver", "portico/policyeditor", "portico/federation", "portico/partners", "portico/cmd", "github.com/labstack/echo", "github.com/a-h/templ"},
	"portico/static":       {"portico/"},
	"portico/netguard":     {"portico/"}, // below everyone that fetches upstream URLs
	"portico/webhooks":     {"portico/handlers", "portico/views", "portico/authserver", "portico/policyeditor", "portico/federation", "portico/partners", "portico/cmd", "github.com/labstack/echo"},
	"portico/metrics":      {"portico/"}, // consumers declare interfaces; cmd passes *metrics.Metrics
	"portico/handlers":     {"portico/cmd"},
	// The Go middleware for resource servers is copied into other modules:
	// it must stand alone.
	"portico/examples": {"portico/"},
}

func TestImportsPointOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		for prefix, banned := range forbidden {
			if pkg != prefix && !strings.HasPrefix(pkg, prefix+"/") {
				continue
			}
			for _, imp := range imports {
				for _, b := range banned {
					if strings.HasPrefix(imp, b) && !strings.HasPrefix(imp, prefix) {
						t.Errorf("%s imports %s: against the layering (see docs/ARCHITECTURE.md, Packages)", pkg, imp)
					}
				}
			}
		}
	}
}
