package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"portico/policyeditor"
	"portico/store"
)

// runPolicyReplay decides the logged decisions of the last --since again
// with a policy document (a file) or a saved version (NAME@VERSION, or NAME
// for the current one) and prints what would change.
func runPolicyReplay(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("policy replay")
	db := c.dbFlag(fs)
	ref := fs.String("policy", "", "a policy document (JSON file) or a saved version: NAME@VERSION (NAME: the current one)")
	since := fs.String("since", "7d", "how far back to replay (7d, 36h)")
	limit := fs.Int("limit", policyeditor.DefaultReplayLimit, "replay at most this many decisions")
	samples := fs.Int("samples", 5, "sample decisions per changed cell")
	point := fs.String("point", "", "comma-separated points, for a document no saved policy has the name of (default: every point of its kind)")
	client := fs.String("client", "", "comma-separated client_ids, likewise")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ref == "" || fs.NArg() != 0 {
		return errors.New("usage: portico policy replay --policy FILE|NAME@VERSION [--since 7d] [--limit N] [--json]")
	}
	window, err := parseDays(*since)
	if err != nil || window <= 0 {
		return fmt.Errorf("--since %q: want a positive number of days (7d) or a duration (36h)", *since)
	}
	st, err := c.openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	if c.now != nil {
		st.Now = c.now
	}
	svc := &policyeditor.Service{Store: st, Now: c.now}
	pol, o, label, err := replaySubject(ctx, svc, *ref)
	if err != nil {
		return err
	}
	if o.PolicyID == "" {
		o.ClientIDs = splitList(*client)
		for _, p := range splitList(*point) {
			o.Points = append(o.Points, policyeditor.Point(p))
		}
		if len(o.Points) == 0 && len(o.ClientIDs) == 0 {
			for _, p := range policyeditor.Points() {
				if p.Kind() == pol.Kind() {
					o.Points = append(o.Points, p)
				}
			}
		}
	}
	now := st.Now()
	o.Since, o.Until, o.Limit, o.Samples = now.Add(-window), now, *limit, *samples
	if !*asJSON {
		o.Progress = func(n int, through time.Time) {
			fmt.Fprintf(c.stderr, "replayed %d decisions, through %s (%.0f%%)\n", n, through.UTC().Format(time.RFC3339),
				100*float64(through.Sub(o.Since))/float64(o.Until.Sub(o.Since)))
		}
	}
	rep, err := policyeditor.Replay(ctx, st, pol, o)
	if err != nil {
		return err
	}
	return c.output(*asJSON, rep, replayText(label, rep))
}

// replaySubject reads --policy: a file, or NAME@VERSION of a saved policy.
func replaySubject(ctx context.Context, svc *policyeditor.Service, ref string) (*policyeditor.Policy, policyeditor.ReplayOptions, string, error) {
	var o policyeditor.ReplayOptions
	if data, err := os.ReadFile(ref); err == nil {
		pol, err := policyeditor.CompileJSON(data)
		if err != nil {
			return nil, o, "", fmt.Errorf("%s: %w", ref, err)
		}
		// A document named like a saved policy is a draft of it: replay the
		// decisions that policy made.
		if p, err := svc.ByName(ctx, pol.Name()); err == nil {
			o.PolicyID = p.ID
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, o, "", err
		}
		return pol, o, ref, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, o, "", err
	}
	name, ver, hasVer := strings.Cut(ref, "@")
	p, err := svc.ByName(ctx, name)
	if err != nil {
		return nil, o, "", fmt.Errorf("--policy %q is neither a file nor a policy's name: %w", ref, err)
	}
	n := p.CurrentVersion
	if hasVer {
		if n, err = strconv.Atoi(ver); err != nil || n < 1 {
			return nil, o, "", fmt.Errorf("--policy %q: the version after @ must be a number", ref)
		}
	}
	v, _, err := svc.Version(ctx, p.ID, n)
	if err != nil {
		return nil, o, "", fmt.Errorf("%s version %d: %w", name, n, err)
	}
	pol, err := policyeditor.CompileJSON(v.Document)
	if err != nil {
		return nil, o, "", err
	}
	o.PolicyID = p.ID
	return pol, o, fmt.Sprintf("%s@%d", p.Name, n), nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// replayText is a replay report for people.
func replayText(label string, rep policyeditor.ReplayReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s over %s … %s: %d decisions replayed in %s, %d would change\n", label,
		rep.Since.UTC().Format(time.RFC3339), rep.Until.UTC().Format(time.RFC3339), rep.Replayed,
		rep.Elapsed.Round(time.Millisecond), rep.Changed)
	if rep.Truncated {
		fmt.Fprintf(&b, "stopped at the limit of %d decisions: decisions after %s were not replayed\n",
			rep.Limit, rep.StoppedAt.UTC().Format(time.RFC3339))
	}
	b.WriteString("\nbefore → after: decisions\n")
	for _, c := range rep.Matrix {
		mark := " "
		if c.From != c.To {
			mark = "*"
		}
		fmt.Fprintf(&b, "%s %s → %s: %d\n", mark, c.From, c.To, c.Count)
	}
	list := func(title string, as []policyeditor.Affected) {
		if len(as) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s\n", title)
		for _, a := range as {
			fmt.Fprintf(&b, "  %s: %d\n", a.Key, a.Changed)
		}
	}
	list("most affected people:", rep.People)
	list("most affected apps:", rep.Apps)
	for _, c := range rep.Matrix {
		if len(c.Samples) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\nsamples %s → %s:\n", c.From, c.To)
		for _, s := range c.Samples {
			fmt.Fprintf(&b, "  %s %s %s %s %s: rule %d (%s) → rule %d (%s)\n", s.DecisionID, s.At.UTC().Format(time.RFC3339),
				s.Point, orDash(s.Subject), orDash(s.ClientID), s.BeforeRule, s.BeforeWhy, s.AfterRule, s.AfterWhy)
		}
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// runPolicyReportOnly attaches a version in report-only mode beside the
// enforced one (a saved --version, or a --file saved as a new version that
// is not enforced), or --detach ends report-only mode.
func runPolicyReportOnly(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("policy report-only")
	db := c.dbFlag(fs)
	name := fs.String("policy", "", "the policy's name (required)")
	version := fs.Int("version", 0, "a saved version to attach in report-only mode")
	file := fs.String("file", "", "a policy document to save as a report-only version")
	detach := fs.Bool("detach", false, "end report-only mode")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := 0
	for _, b := range []bool{*version != 0, *file != "", *detach} {
		if b {
			set++
		}
	}
	if *name == "" || set != 1 || fs.NArg() != 0 {
		return errors.New("usage: portico policy report-only --policy NAME (--version N | --file FILE | --detach) [--json]")
	}
	st, err := c.openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := &policyeditor.Service{Store: st, Now: c.now}
	p, err := svc.ByName(ctx, *name)
	if err != nil {
		return fmt.Errorf("policy %q: %w", *name, err)
	}
	switch {
	case *detach:
		err = svc.DetachShadow(ctx, cliActorOf(), p.ID)
	case *file != "":
		data, rerr := os.ReadFile(*file)
		if rerr != nil {
			return rerr
		}
		doc, perr := policyeditor.ParseDocument(data)
		if perr != nil {
			return fmt.Errorf("%s: %w", *file, perr)
		}
		_, err = svc.SaveShadow(ctx, cliActorOf(), p.ID, doc, "report-only (cli)")
	default:
		err = svc.AttachShadow(ctx, cliActorOf(), p.ID, *version)
	}
	if err != nil {
		return err
	}
	if p, err = st.Policy(ctx, p.ID); err != nil {
		return err
	}
	human := fmt.Sprintf("%s: version %d enforced, no report-only version", p.Name, p.CurrentVersion)
	if p.ShadowVersion != 0 {
		human = fmt.Sprintf("%s: version %d enforced, version %d in report-only mode", p.Name, p.CurrentVersion, p.ShadowVersion)
	}
	return c.output(*asJSON, p, human)
}

// runPolicyPromote makes the report-only version the enforced one.
func runPolicyPromote(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("policy promote")
	db := c.dbFlag(fs)
	name := fs.String("policy", "", "the policy's name (required)")
	version := fs.Int("version", 0, "the report-only version to promote (required: what you looked at)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" || *version == 0 || fs.NArg() != 0 {
		return errors.New("usage: portico policy promote --policy NAME --version N [--json]")
	}
	st, err := c.openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := &policyeditor.Service{Store: st, Now: c.now}
	p, err := svc.ByName(ctx, *name)
	if err != nil {
		return fmt.Errorf("policy %q: %w", *name, err)
	}
	before := p.CurrentVersion
	if p, err = svc.Promote(ctx, cliActorOf(), p.ID, *version); err != nil {
		return err
	}
	return c.output(*asJSON, p, fmt.Sprintf("%s: version %d enforced (was %d; restore it to undo)", p.Name, p.CurrentVersion, before))
}
