package policyeditor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"portico/store"
)

// Recorder writes decisions to the log by group commit: Record queues a
// decision and waits until the transaction that holds it has committed, so
// no token, code, launch or refusal page that cites a decision is sent
// before the decision is durable — a crash loses no decision a response
// relied on. Throughput is kept by sharing transactions: one goroutine
// takes everything that queued up while the previous batch was committing
// (up to Batch decisions) and commits it as one transaction, so a request
// waits for about one commit (a few milliseconds) however many arrive at
// once, and SQLite pays one commit per batch rather than per decision.
type Recorder struct {
	st  *store.Store
	log *slog.Logger
	o   RecorderOptions

	mu     sync.RWMutex // guards closed against Record racing Close
	closed bool
	ch     chan *entry
	done   chan struct{}

	written, failed, batches atomic.Int64
}

// RecorderOptions tune a Recorder; zero values take the defaults.
type RecorderOptions struct {
	// Queue is how many decisions may wait for the writer (default 8192);
	// past it Record waits for room, as it waits for its commit anyway.
	Queue int
	// Batch is how many decisions one transaction writes at most (default 512).
	Batch int
	// Log receives write failures; nil means slog.Default().
	Log *slog.Logger
	// Observer, when set, hears of every batch written (metrics, the
	// decision.denied webhook) from the writer goroutine, never from a
	// request, and of every drop.
	Observer RecorderObserver
}

// RecorderObserver hears what a Recorder does. DecisionsWritten runs on the
// writer goroutine after each batch (err is the write's error; the batch
// must not be kept); DecisionDropped runs in Record, so it must be cheap.
type RecorderObserver interface {
	DecisionsWritten(batch []store.Decision, took time.Duration, err error)
	DecisionDropped()
}

// ErrRecorderClosed is returned by Record after Close.
var ErrRecorderClosed = errors.New("policyeditor: the decision recorder is closed")

// entry is a decision waiting to be written; done receives the outcome of
// the commit that held it. A sync entry only marks a Sync.
type entry struct {
	p    store.PendingDecision
	sync bool
	done chan error
}

// NewRecorder starts the writer goroutine; Close stops it.
func NewRecorder(st *store.Store, o RecorderOptions) *Recorder {
	if o.Queue <= 0 {
		o.Queue = 8192
	}
	if o.Batch <= 0 {
		o.Batch = 512
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	r := &Recorder{st: st, log: o.Log, o: o, ch: make(chan *entry, o.Queue), done: make(chan struct{})}
	go r.run()
	return r
}

// Record writes d (with the request it decided, for the context column) and
// returns its ID once the decision is durable. An error means it was not
// written, or that ctx ended before the commit was known: the caller must
// then not act on the decision. The decision may still be written after
// ctx ends; it is never written twice.
func (r *Recorder) Record(ctx context.Context, d store.Decision, req *Request, stepUp bool) (string, error) {
	// The row is prepared (ID, references, the context split into its
	// shared and inline parts) here, on the request's own goroutine: the
	// request waits for the commit anyway, and the one writer goroutine,
	// whose speed bounds the rate under load, then only resolves
	// references and binds.
	e := &entry{p: prepareDecision(d, req, stepUp), done: make(chan error, 1)}
	if err := r.enqueue(ctx, e); err != nil {
		return "", err
	}
	select {
	case err := <-e.done:
		if err != nil {
			return "", err
		}
		// The store gives a colliding ID (another replica, the same
		// millisecond) a fresh one; the written one is the reference.
		return e.p.Decision.ID, nil
	case <-ctx.Done():
		return "", fmt.Errorf("policyeditor: waiting for the decision log: %w", ctx.Err())
	}
}

func (r *Recorder) enqueue(ctx context.Context, e *entry) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		if !e.sync {
			r.drop()
		}
		return ErrRecorderClosed
	}
	select {
	case r.ch <- e:
		return nil
	default:
	}
	// The queue is full: wait for room (Close waits for the write lock, so
	// it cannot close the channel under this send).
	select {
	case r.ch <- e:
		return nil
	case <-ctx.Done():
		if !e.sync {
			r.drop()
		}
		return fmt.Errorf("policyeditor: decision log queue full: %w", ctx.Err())
	}
}

// drop tells the observer of a decision that was refused (the recorder
// closed, or the request gave up waiting for room in the queue).
func (r *Recorder) drop() {
	if r.o.Observer != nil {
		r.o.Observer.DecisionDropped()
	}
}

// QueueDepth is how many decisions wait to be written.
func (r *Recorder) QueueDepth() int { return len(r.ch) }

// Sync waits until every decision queued before the call has been written
// (or its write has failed). Record already waits for its own decision;
// Sync is for tests and tools that hold no Record call.
func (r *Recorder) Sync(ctx context.Context) error {
	e := &entry{sync: true, done: make(chan error, 1)}
	if err := r.enqueue(ctx, e); err != nil {
		if errors.Is(err, ErrRecorderClosed) {
			return nil // Close wrote everything
		}
		return err
	}
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued and stops the writer. Later Records fail
// with ErrRecorderClosed. The server closes the recorder only after its
// HTTP server has drained, so no request is waiting then.
func (r *Recorder) Close() error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.ch)
	}
	r.mu.Unlock()
	<-r.done
	return nil
}

// RecorderStats counts what a Recorder did since it started.
type RecorderStats struct {
	// Written and Failed count decisions; Batches counts transactions
	// (Written/Batches is how many decisions shared a commit).
	Written, Failed, Batches int64
}

// Stats returns the counters.
func (r *Recorder) Stats() RecorderStats {
	return RecorderStats{Written: r.written.Load(), Failed: r.failed.Load(), Batches: r.batches.Load()}
}

func (r *Recorder) run() {
	defer close(r.done)
	batch := make([]*entry, 0, min(r.o.Batch, 1024)) // grows if a huge Batch is configured
	rows := make([]store.PendingDecision, 0, cap(batch))
	ds := make([]store.Decision, 0, cap(batch)) // what the observer hears of
	for {
		e, ok := <-r.ch
		if !ok {
			return
		}
		batch = append(batch[:0], e)
		// Group commit: take whatever queued while the last batch was
		// being committed; while yielding to the runnable requests brings
		// more, yield again, since with every client waiting on its own
		// commit a batch is otherwise only as large as one scheduling
		// round (this took the token path from 0.69 to 0.87 of the
		// asynchronous recorder's rate at 64 connections).
		seen := 0 // the batch's size at the last yield
	gather:
		for len(batch) < r.o.Batch {
			select {
			case e, ok := <-r.ch:
				if !ok {
					break gather
				}
				batch = append(batch, e)
			default:
				if len(batch) == seen {
					break gather
				}
				seen = len(batch)
				runtime.Gosched()
			}
		}
		rows = rows[:0]
		for _, e := range batch {
			if !e.sync {
				rows = append(rows, e.p)
			}
		}
		var err error
		ds, err = r.write(rows, ds)
		i := 0
		for _, e := range batch {
			if !e.sync {
				e.p.Decision.ID = rows[i].Decision.ID
				i++
			}
			e.done <- err
		}
		// Drop the requests' data until the next batch.
		clear(batch)
		clear(rows)
		clear(ds)
	}
}

// write commits rows in one transaction; ds is a buffer for the
// observer's copy of the batch, returned for reuse.
func (r *Recorder) write(rows []store.PendingDecision, ds []store.Decision) ([]store.Decision, error) {
	if len(rows) == 0 {
		return ds, nil
	}
	// A fresh context: the batch must be written even while the server
	// shuts down, whatever became of the requests that wait on it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	collided, err := r.st.WriteDecisions(ctx, rows)
	if r.o.Observer != nil {
		ds = ds[:0]
		for i := range rows {
			ds = append(ds, rows[i].Decision)
		}
		r.o.Observer.DecisionsWritten(ds, time.Since(start), err)
	}
	if err == nil && collided > 0 {
		err = fmt.Errorf("policyeditor: %d decision IDs were taken", collided)
	}
	if err != nil {
		r.failed.Add(int64(len(rows)))
		r.log.Error("writing decisions failed; the requests that wait on them are refused", "count", len(rows), "err", err)
		return ds, err
	}
	r.written.Add(int64(len(rows)))
	r.batches.Add(1)
	return ds, nil
}

// DecisionContext is what a decision looked at, as the log keeps it: enough
// to understand, and to replay, the decision.
type DecisionContext struct {
	IP       string    `json:"ip,omitempty"`
	Country  string    `json:"country,omitempty"`
	Location string    `json:"location,omitempty"`
	Org      string    `json:"org,omitempty"`
	Plan     string    `json:"plan,omitempty"`
	Groups   []string  `json:"groups,omitempty"`
	MFAAt    time.Time `json:"mfa_at,omitzero"`
	// AuthMethods are the session's RFC 8176 methods and when each was used.
	AuthMethods map[string]time.Time `json:"auth_methods,omitempty"`
	SteppedUp   bool                 `json:"stepped_up,omitempty"`
	Locations   []string             `json:"locations,omitempty"`
	Attributes  map[string]string    `json:"attributes,omitempty"`
	Scopes      []string             `json:"scopes,omitempty"`
	// OrgAttributes are the organization's attributes.
	OrgAttributes map[string]string `json:"org_attributes,omitempty"`
	Issuer        string            `json:"issuer,omitempty"`
	// Connection, ClientType and ValidUntil (the partnership's end) are
	// what the connection, client_type and partnership conditions read.
	Connection string    `json:"connection,omitempty"`
	ClientType string    `json:"client_type,omitempty"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
	// The token behind an API call: its issued-at, binding and features.
	TokenIssuedAt     time.Time `json:"token_iat,omitzero"`
	SenderConstrained bool      `json:"sender_constrained,omitempty"`
	Features          []string  `json:"features,omitempty"`
	// The API call of an authorizer decision (never its headers: they carry
	// the token).
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
	Host   string `json:"host,omitempty"`
	API    string `json:"api,omitempty"`
}

// ContextOf is the DecisionContext of a request.
func ContextOf(req *Request, stepUp bool) DecisionContext {
	c := DecisionContext{Country: req.Country, Org: req.Org, Plan: req.Plan, Groups: req.User.Groups,
		MFAAt: req.User.MFAAt, AuthMethods: req.User.AuthMethods, SteppedUp: stepUp, Attributes: req.Attributes, OrgAttributes: req.OrgAttributes, Scopes: req.Client.Scopes,
		Issuer: req.Issuer, Method: req.HTTP.Method, Path: req.HTTP.Path, Host: req.HTTP.Host, API: req.HTTP.API,
		Connection: req.User.ConnectionID, ClientType: req.Client.Type, ValidUntil: utc(req.ValidUntil),
		TokenIssuedAt: utc(req.Token.IssuedAt), SenderConstrained: req.Token.SenderConstrained, Features: req.Token.Features}
	// UTC times are the ones the log keeps inline, in a few bytes.
	c.MFAAt = utc(c.MFAAt)
	if len(req.User.AuthMethods) > 0 {
		c.AuthMethods = make(map[string]time.Time, len(req.User.AuthMethods))
		for m, at := range req.User.AuthMethods {
			c.AuthMethods[m] = utc(at)
		}
	}
	if req.IP.IsValid() {
		c.IP = req.IP.String()
		c.Location = LocationOf(req.IP).String()
	}
	for _, l := range req.User.Locations {
		c.Locations = append(c.Locations, l.String())
	}
	return c
}

// utc is t as the log keeps it: UTC milliseconds, the times it stores
// inline in a few bytes (a time with finer digits would make every context
// distinct and be stored whole); a sub-millisecond difference cannot change
// a decision about minutes.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Millisecond)
}

func marshalContext(req *Request, stepUp bool) json.RawMessage {
	b, err := json.Marshal(ContextOf(req, stepUp))
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return b
}

// loggedShared is the part of a DecisionContext that repeats from request
// to request, as the decision log keeps it (store.PrepareDecisionSplit):
// the fields are in the byte order of their JSON names, so json.Marshal
// writes the keys sorted, as the store's own split of a whole context
// (through a map) does; auth_methods is the sorted list of the names.
type loggedShared struct {
	API               string            `json:"api,omitempty"`
	Attributes        map[string]string `json:"attributes,omitempty"`
	AuthMethods       []string          `json:"auth_methods,omitempty"`
	ClientType        string            `json:"client_type,omitempty"`
	Connection        string            `json:"connection,omitempty"`
	Country           string            `json:"country,omitempty"`
	Features          []string          `json:"features,omitempty"`
	Groups            []string          `json:"groups,omitempty"`
	Host              string            `json:"host,omitempty"`
	Issuer            string            `json:"issuer,omitempty"`
	Location          string            `json:"location,omitempty"` // one not kept inline
	Locations         []string          `json:"locations,omitempty"`
	Method            string            `json:"method,omitempty"`
	Org               string            `json:"org,omitempty"`
	OrgAttributes     map[string]string `json:"org_attributes,omitempty"`
	Path              string            `json:"path,omitempty"`
	Plan              string            `json:"plan,omitempty"`
	Scopes            []string          `json:"scopes,omitempty"`
	SenderConstrained bool              `json:"sender_constrained,omitempty"`
	ValidUntil        time.Time         `json:"valid_until,omitzero"`
}

// prepareDecision makes d's row with req's context. The usual request is
// split directly into the shared and inline parts; an unusual one (an
// address with a zone, a time JSON cannot write) is marshalled whole and
// split by the store, which gives the same row by a longer way.
func prepareDecision(d store.Decision, req *Request, stepUp bool) store.PendingDecision {
	if d.At.IsZero() {
		d.At = time.Now()
	}
	c := ContextOf(req, stepUp)
	if !splittable(req, &c) {
		d.Context = marshalContext(req, stepUp)
		return store.PrepareDecision(d)
	}
	sh := loggedShared{API: c.API, Attributes: c.Attributes, ClientType: c.ClientType, Connection: c.Connection,
		Country: c.Country, Features: c.Features, Groups: c.Groups, Host: c.Host, Issuer: c.Issuer, Locations: c.Locations,
		Method: c.Method, Org: c.Org, OrgAttributes: c.OrgAttributes, Path: c.Path, Plan: c.Plan, Scopes: c.Scopes,
		SenderConstrained: c.SenderConstrained, ValidUntil: c.ValidUntil}
	x := store.ContextExtra{IP: req.IP, MFAAt: c.MFAAt, SteppedUp: c.SteppedUp, TokenIssuedAt: c.TokenIssuedAt}
	if loc := LocationOf(req.IP); loc.IsValid() && loc.Addr().Is6() == req.IP.Is6() && loc.Masked() == loc && loc.Contains(req.IP) {
		x.Location = loc
	} else if req.IP.IsValid() {
		sh.Location = c.Location
	}
	if len(c.AuthMethods) > 0 {
		sh.AuthMethods = slices.Sorted(maps.Keys(c.AuthMethods))
		x.AuthNames = sh.AuthMethods
		x.AuthAt = make([]time.Time, len(sh.AuthMethods))
		for i, m := range sh.AuthMethods {
			x.AuthAt[i] = c.AuthMethods[m]
		}
	}
	b, err := json.Marshal(&sh)
	if err != nil {
		d.Context = marshalContext(req, stepUp)
		return store.PrepareDecision(d)
	}
	return store.PrepareDecisionSplit(d, b, &x)
}

// splittable reports whether c can be split directly: its address has no
// zone and JSON can write each of its times (years 1 to 9999; the zero
// time is year 1).
func splittable(req *Request, c *DecisionContext) bool {
	if req.IP.Zone() != "" {
		return false
	}
	ok := func(t time.Time) bool { return t.Year() >= 1 && t.Year() <= 9999 }
	if !ok(c.MFAAt) || !ok(c.ValidUntil) || !ok(c.TokenIssuedAt) {
		return false
	}
	for _, t := range c.AuthMethods {
		if !ok(t) {
			return false
		}
	}
	return true
}
