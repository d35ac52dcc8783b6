package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"portico/policyeditor"
)

func runPolicy(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "policy", args, map[string]func(context.Context, *cli, []string) error{
		"eval":        runPolicyEval,
		"import":      runPolicyImport,
		"export":      runPolicyExport,
		"attach":      runPolicyAttach,
		"list":        runPolicyList,
		"replay":      runPolicyReplay,
		"report-only": runPolicyReportOnly,
		"promote":     runPolicyPromote,
	})
}

// runPolicyEval evaluates a policy document against a request document
// without touching any database and prints the decision as JSON.
func runPolicyEval(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("policy eval")
	policyPath := fs.String("policy", "", "policy document (JSON file, required)")
	requestPath := fs.String("request", "", "request document (JSON file, required)")
	geoip := fs.String("geoip", c.getenv("PORTICO_GEOIP_DB"), "MaxMind .mmdb file for countries (env PORTICO_GEOIP_DB; default: the embedded IP2Location LITE table)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *policyPath == "" || *requestPath == "" {
		return errors.New("--policy and --request are required")
	}
	pol, err := os.ReadFile(*policyPath)
	if err != nil {
		return err
	}
	req, err := os.ReadFile(*requestPath)
	if err != nil {
		return err
	}
	loc, closeLoc, err := openLocator(*geoip)
	if err != nil {
		return err
	}
	defer closeLoc()
	out, err := policyeditor.EvalJSON(pol, req, loc)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.stdout, string(out))
	return err
}

// openLocator returns the MaxMind database at path, or the embedded table.
func openLocator(path string) (policyeditor.Locator, func(), error) {
	if path == "" {
		return policyeditor.IPLocLocator{}, func() {}, nil
	}
	m, err := policyeditor.OpenMaxMind(path)
	if err != nil {
		return nil, nil, fmt.Errorf("geoip database %s: %w", path, err)
	}
	return m, func() { m.Close() }, nil
}
