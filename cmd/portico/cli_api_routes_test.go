package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"portico/handlers/adminapi"
)

// cliAPIRoutes maps every command-line action to the admin API route(s)
// that do the same. A new CLI command fails TestEveryCLICommandHasAnAPIRoute
// until it is added here (or to cliNotAPI, with the reason).
var cliAPIRoutes = map[string][]string{
	"org create":          {"POST /api/v1/orgs"},
	"org update":          {"PATCH /api/v1/orgs/:org", "POST /api/v1/orgs/:org/suspend", "POST /api/v1/orgs/:org/reactivate"},
	"org list":            {"GET /api/v1/orgs"},
	"org show":            {"GET /api/v1/orgs/:org"},
	"org client-metadata": {"PUT /api/v1/orgs/:org/client-metadata"},

	"plan create": {"POST /api/v1/plans"},
	"plan update": {"PATCH /api/v1/plans/:plan"},
	"plan list":   {"GET /api/v1/plans"},
	"plan show":   {"GET /api/v1/plans/:plan"},

	"member invite":        {"POST /api/v1/orgs/:org/invitations"},
	"member invitations":   {"GET /api/v1/orgs/:org/invitations"},
	"member revoke-invite": {"DELETE /api/v1/orgs/:org/invitations/:id"},
	"member list":          {"GET /api/v1/orgs/:org/members", "GET /api/v1/orgs/:org/members/:id"},
	"member role":          {"PATCH /api/v1/orgs/:org/members/:id"},
	"member remove":        {"DELETE /api/v1/orgs/:org/members/:id"},

	"group create":        {"POST /api/v1/orgs/:org/groups"},
	"group list":          {"GET /api/v1/orgs/:org/groups"},
	"group delete":        {"DELETE /api/v1/orgs/:org/groups/:id"},
	"group add-member":    {"PUT /api/v1/orgs/:org/groups/:id/members/:user"},
	"group remove-member": {"DELETE /api/v1/orgs/:org/groups/:id/members/:user"},
	"group members":       {"GET /api/v1/orgs/:org/groups/:id/members"},

	"user create":        {"POST /api/v1/orgs/:org/users"},
	"user reset-link":    {"POST /api/v1/orgs/:org/users/:id/reset-link"},
	"user set-attribute": {"PUT /api/v1/orgs/:org/users/:id/attributes/:name"},

	"connection create": {"POST /api/v1/orgs/:org/connections"},
	"connection update": {"PATCH /api/v1/orgs/:org/connections/:id"},
	"connection list":   {"GET /api/v1/orgs/:org/connections"},

	"client create":        {"POST /api/v1/orgs/:org/apps"},
	"client list":          {"GET /api/v1/orgs/:org/apps"},
	"client show":          {"GET /api/v1/orgs/:org/apps/:client_id"},
	"client rotate-secret": {"POST /api/v1/orgs/:org/apps/:client_id/secrets"},
	"client revoke-secret": {"DELETE /api/v1/orgs/:org/apps/:client_id/secrets/:secret_id"},
	"client enable":        {"POST /api/v1/orgs/:org/apps/:client_id/enable"},
	"client disable":       {"POST /api/v1/orgs/:org/apps/:client_id/disable"},
	"client delete":        {"DELETE /api/v1/orgs/:org/apps/:client_id"},
	"client share":         {"PUT /api/v1/orgs/:org/apps/:client_id/shares/:target", "DELETE /api/v1/orgs/:org/apps/:client_id/shares/:target"},
	"client update":        {"PATCH /api/v1/orgs/:org/apps/:client_id/platform-settings"},

	"issuer create": {"POST /api/v1/orgs/:org/issuers"},
	"issuer list":   {"GET /api/v1/orgs/:org/issuers"},
	"issuer show":   {"GET /api/v1/orgs/:org/issuers/:id"},
	"issuer delete": {"DELETE /api/v1/orgs/:org/issuers/:id"},
	"issuer test":   {"POST /api/v1/orgs/:org/issuers/:id/test"},

	"scope create": {"POST /api/v1/scopes"},
	"scope list":   {"GET /api/v1/scopes"},

	"api create": {"POST /api/v1/apis"},
	"api list":   {"GET /api/v1/apis"},
	"api show":   {"GET /api/v1/apis/:id"},
	"api update": {"PATCH /api/v1/apis/:id"},
	"api delete": {"DELETE /api/v1/apis/:id"},

	"policy eval":        {"POST /api/v1/policies/eval"},
	"policy import":      {"POST /api/v1/policies"},
	"policy export":      {"GET /api/v1/policies/:id"},
	"policy attach":      {"PUT /api/v1/policy-attachments", "DELETE /api/v1/policy-attachments"},
	"policy list":        {"GET /api/v1/policies"},
	"policy replay":      {"POST /api/v1/policies/:id/replay"},
	"policy report-only": {"PUT /api/v1/policies/:id/report-only", "DELETE /api/v1/policies/:id/report-only"},
	"policy promote":     {"POST /api/v1/policies/:id/promote"},

	"decisions list": {"GET /api/v1/decisions", "GET /api/v1/orgs/:org/decisions"},
	"audit list":     {"GET /api/v1/audit", "GET /api/v1/orgs/:org/audit"},

	"keys rotate":               {"POST /api/v1/keys/rotate"},
	"registration-token create": {"POST /api/v1/orgs/:org/registration-tokens"},

	"org set-attribute": {"PUT /api/v1/orgs/:org/attributes/:name", "DELETE /api/v1/orgs/:org/attributes/:name"},

	"webhook create":     {"POST /api/v1/webhooks"},
	"webhook list":       {"GET /api/v1/webhooks", "GET /api/v1/webhooks/:id"},
	"webhook delete":     {"DELETE /api/v1/webhooks/:id"},
	"webhook update":     {"PATCH /api/v1/webhooks/:id"},
	"webhook pause":      {"POST /api/v1/webhooks/:id/pause"},
	"webhook resume":     {"POST /api/v1/webhooks/:id/resume"},
	"webhook deliveries": {"GET /api/v1/webhook-deliveries"},
	"webhook redeliver":  {"POST /api/v1/webhook-deliveries/:id/redeliver"},
	"webhook events":     {"GET /api/v1/webhook-events"},
	"hook create":        {"POST /api/v1/hooks"},
	"hook list":          {"GET /api/v1/hooks", "GET /api/v1/hooks/:hook"},
	"hook delete":        {"DELETE /api/v1/hooks/:hook"},

	"token create": {"POST /api/v1/tokens"},
	"token list":   {"GET /api/v1/tokens"},
	"token revoke": {"DELETE /api/v1/tokens/:id"},
}

// cliNotAPI are the commands that stay on the host, and why.
var cliNotAPI = map[string]string{
	"serve":                "runs the portal itself",
	"version":              "the version of the binary at hand",
	"admin reset-password": "break-glass recovery for when no platform admin can sign in: needs the host, not a credential",
	"db copy":              "moves database files between engines on the host",
	"db backup":            "writes a file on the host",
	"bench tokens":         "a load test run beside a portal",
	"bench seed":           "fills a throwaway benchmark database",
	"bench pages":          "a load test run beside a portal",
	"bench paths":          "a load test run beside a portal",
	"bench soak":           "a load test run beside a portal",
}

var usageSubsRE = regexp.MustCompile(`usage: portico \S+ \{([^}]*)\}`)

// cliActions lists every "command subcommand" of the command table, asking
// each command for its usage as a person would (no arguments).
func cliActions(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, cmd := range commands() {
		if cmd.name == "serve" || cmd.name == "version" {
			out = append(out, cmd.name)
			continue
		}
		var stderr bytes.Buffer
		c := &cli{stdout: &bytes.Buffer{}, stderr: &stderr, getenv: func(string) string { return "" }, now: time.Now}
		cmd.run(context.Background(), c, nil)
		m := usageSubsRE.FindStringSubmatch(stderr.String())
		if m == nil {
			t.Fatalf("%s printed no subcommand list: %q", cmd.name, stderr.String())
		}
		for _, sub := range strings.Split(m[1], "|") {
			out = append(out, cmd.name+" "+sub)
		}
	}
	return out
}

// TestEveryCLICommandHasAnAPIRoute keeps the CLI and the admin API in step:
// every CLI action maps to routes the API serves (or is listed as staying
// on the host), and every mapping names a CLI action that exists.
func TestEveryCLICommandHasAnAPIRoute(t *testing.T) {
	served := map[string]bool{}
	for _, r := range adminapi.New(adminapi.Config{}).Routes() {
		served[r[0]+" "+r[1]] = true
	}
	actions := cliActions(t)
	if len(actions) < 60 {
		t.Fatalf("only %d CLI actions found: %v", len(actions), actions)
	}
	exists := map[string]bool{}
	for _, a := range actions {
		exists[a] = true
		if _, ok := cliNotAPI[a]; ok {
			continue
		}
		routes, ok := cliAPIRoutes[a]
		if !ok {
			t.Errorf("CLI action %q has no admin API route: add one and map it in cliAPIRoutes", a)
			continue
		}
		for _, r := range routes {
			if served[r] {
				continue
			}
			t.Errorf("CLI action %q maps to %s, which the admin API does not serve", a, r)
		}
	}
	for a := range cliAPIRoutes {
		if !exists[a] {
			t.Errorf("cliAPIRoutes names %q, which is not a CLI action", a)
		}
	}
	for a := range cliNotAPI {
		if !exists[a] {
			t.Errorf("cliNotAPI names %q, which is not a CLI action", a)
		}
	}
}
