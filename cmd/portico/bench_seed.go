package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"portico/policyeditor"
	"portico/store"
)

// seedFlags are the options of `portico bench seed`.
type seedFlags struct {
	db                              string
	orgs, users, clients, decisions int
	audit, invitations              int
	decisionDays                    int
	batch                           int
}

// Seeded rows are recognisable and reproducible: slugs org-000001…,
// emails user0000001@org-000001.example, client_ids bench-0000001.
const (
	seedPolicyName = "Bench office hours"
	seedBatch      = 20000
)

var seedWords = []string{"Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent",
	"Tyrell", "Cyberdyne", "Wonka", "Gringotts", "Oceanic", "Massive", "Dynamic", "Blue", "Northern", "Pacific",
	"Quantum", "Silver", "Golden", "Rapid", "Bright", "Summit", "Vertex", "Nimbus", "Zenith", "Apex", "Orbit"}

func runBenchSeed(ctx context.Context, c *cli, args []string) error {
	var f seedFlags
	fs := c.newFlags("bench seed")
	fs.StringVar(&f.db, "db", c.getenv("PORTICO_DB"), "SQLite database file to fill (created if missing; env PORTICO_DB)")
	fs.IntVar(&f.orgs, "orgs", 1000, "organizations to add")
	fs.IntVar(&f.users, "users", 10000, "users to add, spread over the new organizations")
	fs.IntVar(&f.clients, "clients", 2000, "applications to add, spread over the new organizations")
	fs.IntVar(&f.decisions, "decisions", 50000, "policy decisions to add, spread over the last --decision-days")
	fs.IntVar(&f.audit, "audit", -1, "audit events to add (default: one per organization)")
	fs.IntVar(&f.invitations, "invitations", -1, "invitations to add (default: one per 5 organizations)")
	fs.IntVar(&f.decisionDays, "decision-days", 7, "decisions are spread over this many days before now")
	fs.IntVar(&f.batch, "batch", seedBatch, "rows per transaction")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if f.db == "" {
		return errors.New("bench seed: --db is required (the seed adds rows to a real database)")
	}
	if f.orgs < 1 || f.users < 0 || f.clients < 0 || f.decisions < 0 || f.batch < 1 || f.decisionDays < 1 {
		return errors.New("bench seed: --orgs must be at least 1; counts, --batch and --decision-days must not be negative")
	}
	if f.audit < 0 {
		f.audit = f.orgs
	}
	if f.invitations < 0 {
		f.invitations = f.orgs / 5
	}
	if store.IsPostgres(f.db) {
		return errors.New("bench seed fills a SQLite file; copy it to PostgreSQL with portico db copy")
	}
	st, err := c.openStore(ctx, f.db)
	if err != nil {
		return err
	}
	defer st.Close()
	// The bulk rows go through a connection of the seed's own: the store's
	// pool is read-only, and its one writer connection is not for tuning.
	db, err := sql.Open("sqlite", "file:"+f.db+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	s := &seeder{st: st, db: db, f: f, now: c.now().UTC(), r: rand.New(rand.NewPCG(uint64(c.now().UnixNano()), 7)),
		out: c.stderr}
	return s.run(ctx)
}

type seeder struct {
	st  *store.Store
	db  *sql.DB
	f   seedFlags
	now time.Time
	r   *rand.Rand
	out interface{ Write([]byte) (int, error) }

	start                         int // first number of this run (slugs continue after earlier runs)
	orgIDs, planIDs               []string
	userIDs, userEmails, userOrgs []string
	clientIDs, clientOrgs         []string
	policyID                      string
}

func (s *seeder) logf(format string, a ...any) { fmt.Fprintf(s.out, format+"\n", a...) }

// bulk inserts n rows with one prepared statement, f.batch rows per
// transaction.
func (s *seeder) bulk(ctx context.Context, what, q string, n int, row func(i int) []any) error {
	t0 := time.Now()
	for done := 0; done < n; {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, q)
		if err != nil {
			tx.Rollback()
			return err
		}
		end := min(done+s.f.batch, n)
		for i := done; i < end; i++ {
			if _, err := stmt.ExecContext(ctx, row(i)...); err != nil {
				stmt.Close()
				tx.Rollback()
				return fmt.Errorf("seed %s: %w", what, err)
			}
		}
		stmt.Close()
		if err := tx.Commit(); err != nil {
			return err
		}
		done = end
	}
	s.logf("%-12s %9d rows in %v", what, n, time.Since(t0).Round(time.Millisecond))
	return nil
}

func (s *seeder) run(ctx context.Context) error {
	t0 := time.Now()
	// One connection with a large page cache does all the writing: random
	// keys (IDs, emails) into indexes of millions of rows otherwise spend
	// their time re-reading pages. The seed is not a portal: durability of
	// each commit does not matter, so synchronous is off as well.
	s.db.SetMaxOpenConns(1)
	s.db.SetMaxIdleConns(1)
	for _, pragma := range []string{"PRAGMA cache_size = -1048576", "PRAGMA synchronous = OFF"} {
		if _, err := s.db.ExecContext(ctx, pragma); err != nil {
			return err
		}
	}
	var existing int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations WHERE slug >= 'org-' AND slug < 'org.'`).Scan(&existing); err != nil {
		return err
	}
	s.start = existing + 1
	if err := s.plansAndPolicy(ctx); err != nil {
		return err
	}
	nowMS := s.now.UnixMilli()
	f := s.f
	s.orgIDs = make([]string, f.orgs)
	if err := s.bulk(ctx, "organizations", `INSERT INTO organizations (id, slug, name, status, valid_until, plan_id, created_at, updated_at)
		VALUES (?, ?, ?, 'active', ?, ?, ?, ?)`, f.orgs, func(i int) []any {
		s.orgIDs[i] = store.NewID()
		var until any
		if s.r.IntN(100) == 0 { // 1% end within 60 days
			until = nowMS + s.r.Int64N(60*24*3600*1000)
		}
		name := fmt.Sprintf("%s %s %06d", seedWords[s.r.IntN(len(seedWords))], seedWords[s.r.IntN(len(seedWords))], s.start+i)
		return []any{s.orgIDs[i], fmt.Sprintf("org-%06d", s.start+i), name, until, s.planIDs[i%len(s.planIDs)], nowMS, nowMS}
	}); err != nil {
		return err
	}
	if err := s.bulk(ctx, "domains", `INSERT INTO org_domains (domain, org_id) VALUES (?, ?)`, f.orgs, func(i int) []any {
		return []any{fmt.Sprintf("org-%06d.example", s.start+i), s.orgIDs[i]}
	}); err != nil {
		return err
	}
	s.userIDs, s.userEmails, s.userOrgs = make([]string, f.users), make([]string, f.users), make([]string, f.users)
	if err := s.bulk(ctx, "users", `INSERT INTO users (id, org_id, email, email_verified, name, role, created_at, updated_at)
		VALUES (?, ?, ?, 1, ?, ?, ?, ?)`, f.users, func(i int) []any {
		o := i % f.orgs
		s.userIDs[i], s.userOrgs[i] = store.NewID(), s.orgIDs[o]
		s.userEmails[i] = fmt.Sprintf("user%07d@org-%06d.example", i, s.start+o)
		role := []string{"member", "member", "member", "developer", "admin"}[s.r.IntN(5)]
		name := seedWords[s.r.IntN(len(seedWords))] + " " + seedWords[s.r.IntN(len(seedWords))] + fmt.Sprintf(" %d", i)
		return []any{s.userIDs[i], s.userOrgs[i], s.userEmails[i], name, role, nowMS, nowMS}
	}); err != nil {
		return err
	}
	runTag := s.now.Format("0102150405")
	s.clientIDs, s.clientOrgs = make([]string, f.clients), make([]string, f.clients)
	if err := s.bulk(ctx, "clients", `INSERT INTO oauth_clients (id, org_id, client_id, name, type, redirect_uris, grant_types,
		scopes, launch_url, policy_id, token_endpoint_auth_method, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, '["openid"]', ?, ?, ?, ?, ?)`, f.clients, func(i int) []any {
		o := s.r.IntN(f.orgs)
		s.clientIDs[i], s.clientOrgs[i] = fmt.Sprintf("bench-%s-%07d", runTag, i), s.orgIDs[o]
		typ, grants, auth := "web", `["authorization_code","refresh_token"]`, "client_secret_basic"
		if i%5 == 0 {
			typ, grants = "service", `["client_credentials"]`
		}
		var policy any
		if i%10 == 1 {
			policy = s.policyID
		}
		return []any{store.NewID(), s.clientOrgs[i], s.clientIDs[i], fmt.Sprintf("%s app %07d", seedWords[i%len(seedWords)], i),
			typ, `["https://app.example/callback"]`, grants, "https://app.example/", policy, auth, nowMS, nowMS}
	}); err != nil {
		return err
	}
	if err := s.bulk(ctx, "audit events", `INSERT INTO audit_events (id, at, org_id, actor_id, actor, action, target_type, target_id, after)
		VALUES (?, ?, ?, '', ?, ?, 'organization', ?, ?)`, f.audit, func(i int) []any {
		o := s.r.IntN(f.orgs)
		at := nowMS - s.r.Int64N(int64(f.decisionDays)*24*3600*1000)
		actor := []string{"cli", "ops@portico.example", "admin@portico.example"}[i%3]
		return []any{store.NewID(), at, s.orgIDs[o], actor, "org.update", s.orgIDs[o], `{"name":"renamed"}`}
	}); err != nil {
		return err
	}
	if err := s.bulk(ctx, "invitations", `INSERT INTO invitations (id, org_id, email, role, token_hash, invited_by, created_at, expires_at)
		VALUES (?, ?, ?, 'member', ?, 'cli', ?, ?)`, f.invitations, func(i int) []any {
		o := s.r.IntN(f.orgs)
		return []any{store.NewID(), s.orgIDs[o], fmt.Sprintf("invitee%07d@org-%06d.example", i, s.start+o), store.NewID() + store.NewID(),
			nowMS, nowMS + 7*24*3600*1000}
	}); err != nil {
		return err
	}
	if err := s.decisions(ctx); err != nil {
		return err
	}
	s.logf("seeded in %v", time.Since(t0).Round(time.Millisecond))
	return nil
}

// plansAndPolicy makes (or reuses) three plans and a policy for apps to use.
func (s *seeder) plansAndPolicy(ctx context.Context) error {
	for _, slug := range []string{"bench-bronze", "bench-silver", "bench-gold"} {
		p, err := s.st.PlanBySlug(ctx, slug)
		if errors.Is(err, store.ErrNotFound) {
			p = store.Plan{Slug: slug, Name: strings.TrimPrefix(slug, "bench-")}
			err = s.st.CreatePlan(ctx, &p)
		}
		if err != nil {
			return err
		}
		s.planIDs = append(s.planIDs, p.ID)
	}
	p, err := s.st.PolicyByName(ctx, seedPolicyName)
	if errors.Is(err, store.ErrNotFound) {
		svc := &policyeditor.Service{Store: s.st}
		saved, err := svc.Import(ctx, store.Actor{Label: "bench"}, []byte(seedPolicy))
		if err != nil {
			return fmt.Errorf("seed policy: %w", err)
		}
		p = saved.Policy
	} else if err != nil {
		return err
	}
	s.policyID = p.ID
	return nil
}

// seedPolicy is the demo's policy under another name.
var seedPolicy = strings.Replace(demoPolicy, `"name":"Development portal access"`, `"name":"`+seedPolicyName+`"`, 1)

// decisions adds decisions the way the recorder writes them (through
// InsertDecisions, in batches), spread over the last decision-days. The rows
// are built on one goroutine while the previous batch is written on another,
// and the store's writer gets a large page cache for the duration: millions
// of decisions are then minutes, not an hour.
func (s *seeder) decisions(ctx context.Context) error {
	f := s.f
	if f.decisions == 0 {
		return nil
	}
	if len(s.userIDs) == 0 || len(s.clientIDs) == 0 {
		return errors.New("seed decisions: needs --users and --clients")
	}
	if err := s.st.TuneForBulkLoad(ctx); err != nil {
		return err
	}
	t0 := time.Now()
	span := int64(f.decisionDays) * 24 * 3600 * 1000
	first := s.now.UnixMilli() - span
	step := span / int64(f.decisions)
	actions := []string{"permit", "permit", "permit", "permit", "challenge", "deny"}
	points := []string{"authorize", "refresh", "launch", "token"}
	size := min(max(f.batch, 512), 20000)
	batches := make(chan []store.Decision, 2)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(batches)
		batch := make([]store.Decision, 0, size)
		for i := range f.decisions {
			u := s.r.IntN(len(s.userIDs))
			cl := s.r.IntN(len(s.clientIDs))
			at := time.UnixMilli(first + int64(i)*step + s.r.Int64N(max(step, 1))).UTC()
			rule := s.r.IntN(2)
			ctxJSON, _ := json.Marshal(map[string]any{
				"ip": fmt.Sprintf("198.51.%d.%d", s.r.IntN(256), 1+s.r.IntN(254)), "country": []string{"US", "BR", "DE", "IN", "FR"}[u%5],
				"org": fmt.Sprintf("org-%06d", s.start+u%f.orgs), "plan": []string{"bronze", "silver", "gold"}[(u%f.orgs)%3],
				"groups": []string{"staff", fmt.Sprintf("team-%d", u%9)}, "scopes": []string{"openid", "profile", "email"},
			})
			batch = append(batch, store.Decision{At: at, Point: points[s.r.IntN(len(points))], OrgID: s.userOrgs[u], UserID: s.userIDs[u],
				Subject: s.userEmails[u], ClientID: s.clientIDs[cl], Context: ctxJSON, PolicyID: s.policyID, PolicyVersion: 1, Rule: rule,
				Action: actions[s.r.IntN(len(actions))], Reason: fmt.Sprintf("rule %d decided", rule)})
			if len(batch) == size || i == f.decisions-1 {
				select {
				case batches <- batch:
				case <-ctx.Done():
					return
				}
				batch = make([]store.Decision, 0, size)
			}
		}
	}()
	done, next := 0, 500000
	for batch := range batches {
		if _, err := s.st.InsertDecisions(ctx, batch); err != nil {
			return err
		}
		if done += len(batch); done >= next && done < f.decisions {
			s.logf("%-12s %9d rows so far, %v", "decisions", done, time.Since(t0).Round(time.Second))
			next += 500000
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.logf("%-12s %9d rows in %v", "decisions", f.decisions, time.Since(t0).Round(time.Millisecond))
	return nil
}
