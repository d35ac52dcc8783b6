// Command portico runs the Portico portal and administers it.
//
// `portico` or `portico serve` runs the portal; every other subcommand works
// on the same database as the server (--db / PORTICO_DB), whether or not the
// server is running, and prints JSON with --json for automation.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cli{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, now: time.Now}
	if err := run(ctx, c, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "portico:", err)
		os.Exit(1)
	}
}

// cli is what every subcommand gets: its output streams, the environment and
// the clock, so tests run commands in-process.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
}

// command is one entry of the command table.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
}

// commands is the command table, in the order `portico help` lists them.
func commands() []command {
	return []command{
		{"serve", "run the portal (the default)", runServe},
		{"version", "print the version", runVersion},
		{"admin", "platform administrators: reset-password", runAdmin},
		{"org", "organizations: create, update, list, show, set-attribute, client-metadata", runOrg},
		{"user", "identity-pool users: create, reset-link, set-attribute", runUser},
		{"connection", "sign-in connections: create, update, list", runConnection},
		{"plan", "plans and their features: create, update, list, show", runPlan},
		{"member", "organization members: invite, invitations, revoke-invite, list, role, remove", runMember},
		{"group", "organization groups: create, list, delete, add-member, remove-member, members", runGroup},
		{"policy", "access policies: eval, import, export, attach, list, replay, report-only, promote", runPolicy},
		{"decisions", "the policy decision log: list", runDecisions},
		{"audit", "the audit log of changes: list", runAudit},
		{"client", "OAuth clients: create, list, show, rotate-secret, revoke-secret, enable, disable, delete, share, update", runClient},
		{"issuer", "trusted token issuers (token exchange, JWT bearer): create, list, show, delete, test", runIssuer},
		{"scope", "portal-wide scopes: create, list", runScope},
		{"api", "APIs (resource servers) and their scopes: create, list, show, update, delete", runAPI},
		{"token", "admin API tokens and client grants: create, list, revoke", runToken},
		{"keys", "token-signing keys: rotate", runKeys},
		{"webhook", "outgoing webhooks: create, list, update, pause, resume, delete, deliveries, redeliver, events", runWebhook},
		{"hook", "inbound hooks (a billing system's): create, list, delete", runHook},
		{"registration-token", "initial access tokens for dynamic client registration: create", runRegistrationToken},
		{"db", "the database: copy (SQLite to PostgreSQL), backup (SQLite, online)", runDB},
		{"bench", "benchmarks over loopback: tokens (client_credentials tokens/s and latency), seed (a large database), pages (admin page times), paths (every user-facing path against same-run references), soak (steady load: errors, p99, memory, descriptors)", runBench},
	}
}

func run(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
		return runServe(ctx, c, args)
	}
	for _, cmd := range commands() {
		if cmd.name == args[0] {
			return cmd.run(ctx, c, args[1:])
		}
	}
	if args[0] == "help" || args[0] == "--help" || args[0] == "-h" {
		c.usage()
		return nil
	}
	c.usage()
	return fmt.Errorf("unknown command %q", args[0])
}

func (c *cli) usage() {
	fmt.Fprintln(c.stderr, "usage: portico [command] [flags]\n\ncommands:")
	for _, cmd := range commands() {
		fmt.Fprintf(c.stderr, "  %-20s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintln(c.stderr, "\nRun `portico COMMAND -h` for a command's flags.")
}
