package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"portico/policyeditor"
	"portico/store"
)

// parseWithArgs parses flags that may come before or after positional
// arguments (`policy import FILE --attach X`), which the flag package alone
// does not allow, and returns the positional ones.
func parseWithArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// policyJSON is a policy as the CLI prints it.
type policyJSON struct {
	store.Policy
	Apps   []string `json:"apps"`
	Points []string `json:"points"`
}

func cliActorOf() store.Actor { return store.Actor{Label: cliActor} }

// runPolicyImport saves a policy document (a new policy, or a new version of
// the one with the same name) and optionally attaches it to an application.
func runPolicyImport(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("policy import")
	db := c.dbFlag(fs)
	attach := fs.String("attach", "", "attach the policy to the application with this client_id")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: portico policy import FILE [--attach CLIENT_ID] [--json]")
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := &policyeditor.Service{Store: st, Now: c.now}
	saved, err := svc.Import(ctx, cliActorOf(), data)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if *attach != "" {
		if err := svc.Attach(ctx, cliActorOf(), saved.Policy.ID, policyeditor.Target{ClientID: *attach}); err != nil {
			return fmt.Errorf("saved %q version %d, but attaching failed: %w", saved.Policy.Name, saved.Version.Version, err)
		}
	}
	out := map[string]any{"policy": saved.Policy, "version": saved.Version.Version, "created": saved.Created}
	if *attach != "" {
		out["attached_to"] = *attach
	}
	human := fmt.Sprintf("saved %q version %d (id %s)", saved.Policy.Name, saved.Version.Version, saved.Policy.ID)
	if *attach != "" {
		human += ", attached to " + *attach
	}
	return c.output(*asJSON, out, human)
}

// runPolicyExport prints a policy's current document, ready to import.
func runPolicyExport(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("policy export")
	db := c.dbFlag(fs)
	fs.Bool("json", true, "the document is always JSON (accepted for symmetry)")
	pos, err := parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: portico policy export NAME")
	}
	st, err := c.openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := &policyeditor.Service{Store: st, Now: c.now}
	p, err := svc.ByName(ctx, pos[0])
	if err != nil {
		return fmt.Errorf("policy %q: %w", pos[0], err)
	}
	doc, err := svc.Export(ctx, p.ID)
	if err != nil {
		return err
	}
	_, err = c.stdout.Write(doc)
	return err
}

// runPolicyAttach attaches a policy to an application, the portal sign-in,
// machine to machine globally, or client registration; --detach removes
// whatever is attached there.
func runPolicyAttach(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("policy attach")
	db := c.dbFlag(fs)
	name := fs.String("policy", "", "policy name (required unless --detach)")
	client := fs.String("client", "", "application client_id")
	portal := fs.Bool("portal", false, "the portal's sign-in")
	m2m := fs.Bool("m2m", false, "machine to machine, for every service app without its own policy")
	reg := fs.Bool("registration", false, "client registration (with --plan: for one plan)")
	plan := fs.String("plan", "", "plan slug, with --registration")
	route := fs.String("route", "", "API requests under this path prefix (an api_request policy; see --host, --api)")
	host := fs.String("host", "", "with --route or --api: only on this host")
	api := fs.String("api", "", "API requests for this registered API (its identifier); with --route only under that prefix")
	detach := fs.Bool("detach", false, "remove the policy attached there instead")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseWithArgs(fs, args); err != nil {
		return err
	}
	var t policyeditor.Target
	n := 0
	for _, set := range []bool{*client != "", *portal, *m2m, *reg, *route != "" || *api != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("name exactly one of --client, --portal, --m2m, --registration, --route/--api")
	}
	st, err := c.openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	if *route != "" || *api != "" {
		return attachRoute(ctx, c, st, *name, store.APIRoute{PathPrefix: *route, Host: *host, API: *api}, *detach, *asJSON)
	}
	switch {
	case *client != "":
		t.ClientID = *client
	case *portal:
		t.Point = store.AttachPortal
	case *m2m:
		t.Point = store.AttachM2M
	default:
		t.Point = store.AttachRegistration
		if *plan != "" {
			p, err := st.PlanBySlug(ctx, *plan)
			if err != nil {
				return fmt.Errorf("plan %q: %w", *plan, err)
			}
			t.Plan = p.ID
		}
	}
	svc := &policyeditor.Service{Store: st, Now: c.now}
	if *detach {
		if err := svc.Detach(ctx, cliActorOf(), t); err != nil {
			return err
		}
		return c.output(*asJSON, map[string]any{"detached": t.String()}, "detached the policy of "+t.String())
	}
	if *name == "" {
		return errors.New("--policy is required")
	}
	p, err := svc.ByName(ctx, *name)
	if err != nil {
		return fmt.Errorf("policy %q: %w", *name, err)
	}
	if err := svc.Attach(ctx, cliActorOf(), p.ID, t); err != nil {
		return err
	}
	return c.output(*asJSON, map[string]any{"policy": p.Name, "attached_to": t.String()},
		fmt.Sprintf("attached %q to %s", p.Name, t))
}

// runPolicyList lists the policies with their current version and where
// each is attached.
func runPolicyList(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("policy list")
	db := c.dbFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := c.openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := &policyeditor.Service{Store: st, Now: c.now}
	ps, err := st.Policies(ctx)
	if err != nil {
		return err
	}
	out := []policyJSON{}
	var b strings.Builder
	for _, p := range ps {
		u, err := svc.Usage(ctx, p.ID)
		if err != nil {
			return err
		}
		j := policyJSON{Policy: p, Apps: []string{}, Points: []string{}}
		for _, a := range u.Apps {
			j.Apps = append(j.Apps, a.ClientID)
		}
		for _, a := range u.Points {
			j.Points = append(j.Points, policyeditor.Target{Point: a.Point, Plan: a.Target}.String())
		}
		for _, r := range u.Routes {
			j.Points = append(j.Points, "API requests under "+r.PathPrefix+orEmpty(" on ", r.Host)+orEmpty(" for ", r.API))
		}
		out = append(out, j)
		fmt.Fprintf(&b, "%s (%s) v%d id=%s", p.Name, p.Kind, p.CurrentVersion, p.ID)
		if used := append(j.Apps, j.Points...); len(used) > 0 {
			fmt.Fprintf(&b, " used by: %s", strings.Join(used, ", "))
		}
		b.WriteByte('\n')
	}
	if len(ps) == 0 {
		b.WriteString("no policies")
	}
	return c.output(*asJSON, out, b.String())
}

// attachRoute attaches an api_request policy to API requests under a path
// prefix (optionally on a host, for an API), or detaches it.
func attachRoute(ctx context.Context, c *cli, st *store.Store, name string, r store.APIRoute, detach, asJSON bool) error {
	svc := &policyeditor.Service{Store: st, Now: c.now}
	r, err := policyeditor.NormalizeRoute(r)
	if err != nil {
		return err
	}
	where := "API requests under " + r.PathPrefix
	if r.Host != "" {
		where += " on " + r.Host
	}
	if r.API != "" {
		where += " for " + r.API
	}
	if detach {
		if err := svc.DetachRoute(ctx, cliActorOf(), r); err != nil {
			return err
		}
		return c.output(asJSON, map[string]any{"detached": where}, "detached the policy of "+where)
	}
	if name == "" {
		return errors.New("--policy is required")
	}
	p, err := svc.ByName(ctx, name)
	if err != nil {
		return fmt.Errorf("policy %q: %w", name, err)
	}
	if err := svc.AttachRoute(ctx, cliActorOf(), p.ID, r); err != nil {
		return err
	}
	return c.output(asJSON, map[string]any{"policy": p.Name, "attached_to": where}, fmt.Sprintf("attached %q to %s", p.Name, where))
}

func orEmpty(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}
