package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"portico/partners"
	"portico/store"
)

func runPlan(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "plan", args, map[string]func(context.Context, *cli, []string) error{
		"create": runPlanCreate,
		"update": runPlanUpdate,
		"list":   runPlanList,
		"show":   runPlanShow,
	})
}

// planJSON is a plan as the CLI prints it.
type planJSON struct {
	ID        string          `json:"id"`
	Slug      string          `json:"slug"`
	Name      string          `json:"name"`
	Features  []store.Feature `json:"features"`
	UpdatedAt time.Time       `json:"updated_at"`
}

func toPlanJSON(p store.Plan) planJSON {
	j := planJSON{ID: p.ID, Slug: p.Slug, Name: p.Name, Features: p.Features, UpdatedAt: p.UpdatedAt}
	if j.Features == nil {
		j.Features = []store.Feature{}
	}
	return j
}

func (j planJSON) human() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) id=%s", j.Slug, j.Name, j.ID)
	for _, f := range j.Features {
		fmt.Fprintf(&b, "\n  feature %s", f.Name)
		if len(f.Scopes) > 0 {
			fmt.Fprintf(&b, " scopes=%s", strings.Join(f.Scopes, ","))
		}
		if len(f.AppTypes) > 0 {
			fmt.Fprintf(&b, " app_types=%s", strings.Join(f.AppTypes, ","))
		}
		if f.MaxApps > 0 {
			fmt.Fprintf(&b, " max_apps=%d", f.MaxApps)
		}
	}
	return b.String()
}

// parseFeature reads one --feature value: the feature's name, then
// space-separated key=value settings with comma-separated lists, e.g.
// "orders scopes=orders:read,orders:write app_types=web,service max_apps=5".
func parseFeature(v string) (partners.FeatureInput, error) {
	fields := strings.Fields(v)
	if len(fields) == 0 {
		return partners.FeatureInput{}, errors.New("--feature needs a name")
	}
	f := partners.FeatureInput{Name: fields[0]}
	for _, kv := range fields[1:] {
		k, val, ok := strings.Cut(kv, "=")
		list := strings.Split(val, ",")
		switch {
		case !ok:
			return f, fmt.Errorf("--feature %q: %q is not key=value", v, kv)
		case k == "scopes":
			f.Scopes = list
		case k == "app_types":
			f.AppTypes = list
		case k == "max_apps":
			n, err := strconv.Atoi(val)
			if err != nil {
				return f, fmt.Errorf("--feature %q: max_apps %q is not a number", v, val)
			}
			f.MaxApps = n
		default:
			return f, fmt.Errorf("--feature %q: unknown setting %q (scopes, app_types, max_apps)", v, k)
		}
	}
	return f, nil
}

func runPlanCreate(ctx context.Context, c *cli, args []string) error {
	return planWrite(ctx, c, "create", args)
}
func runPlanUpdate(ctx context.Context, c *cli, args []string) error {
	return planWrite(ctx, c, "update", args)
}

func planWrite(ctx context.Context, c *cli, verb string, args []string) error {
	cmd := c.storeFlags("plan " + verb)
	fs := cmd.fs
	slug := fs.String("slug", "", "plan slug (required)")
	name := fs.String("name", "", "display name")
	var features multiFlag
	fs.Var(&features, "feature", `feature (repeatable; replaces the list): "NAME scopes=a,b app_types=web,service max_apps=N"`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *slug == "" {
		return errors.New("--slug is required")
	}
	var in partners.PlanInput
	if usedFlag(fs, "name") {
		in.Name = name
	}
	if usedFlag(fs, "feature") {
		var list []partners.FeatureInput
		for _, v := range features {
			f, err := parseFeature(v)
			if err != nil {
				return err
			}
			list = append(list, f)
		}
		in.Features = &list
	}
	st, err := c.openStore(ctx, *cmd.db)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := &partners.Service{Store: st, Now: c.now}
	actor := store.Actor{Label: cliActor}
	var p store.Plan
	if verb == "create" {
		in.Slug = slug
		p, err = svc.CreatePlan(ctx, actor, in)
	} else {
		p, err = svc.UpdatePlan(ctx, actor, *slug, in)
	}
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no plan %q", *slug)
	}
	if err != nil {
		return err
	}
	j := toPlanJSON(p)
	return c.output(*cmd.asJSON, j, j.human())
}

func runPlanList(ctx context.Context, c *cli, args []string) error {
	cmd := c.storeFlags("plan list")
	st, err := cmd.open(ctx, c, args)
	if err != nil {
		return err
	}
	defer st.Close()
	plans, err := st.Plans(ctx)
	if err != nil {
		return err
	}
	out := make([]planJSON, 0, len(plans))
	for _, p := range plans {
		out = append(out, toPlanJSON(p))
	}
	return outputList(c, *cmd.asJSON, out)
}

func runPlanShow(ctx context.Context, c *cli, args []string) error {
	cmd := c.storeFlags("plan show")
	slug := cmd.fs.String("slug", "", "plan slug (required)")
	st, err := cmd.open(ctx, c, args)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := st.PlanBySlug(ctx, *slug)
	if err != nil {
		return fmt.Errorf("no plan %q", *slug)
	}
	j := toPlanJSON(p)
	return c.output(*cmd.asJSON, j, j.human())
}
