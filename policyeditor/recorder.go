package policyeditor

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"portico/store"
)

// Recorder writes decisions to the log asynchronously, in batches: Record
// never waits on the database, so the token endpoint does not either. One
// goroutine drains a bounded queue and commits a batch every Every or every
// Batch decisions, whichever comes first (SQLite commits, not rows, are the
// cost). When the queue is full a decision is dropped and counted rather
// than slowing the request down; drops are logged once per flush.
type Recorder struct {
	st  *store.Store
	log *slog.Logger
	o   RecorderOptions

	mu     sync.RWMutex // guards closed against Record racing Close
	closed bool
	ch     chan entry
	syncCh chan chan struct{}
	done   chan struct{}

	written, dropped, failed atomic.Int64
}

// RecorderOptions tune a Recorder; zero values take the defaults.
type RecorderOptions struct {
	// Queue is how many decisions may wait to be written (default 8192).
	Queue int
	// Batch is how many decisions one transaction writes at most (default 512).
	Batch int
	// Every is the longest a decision waits before its batch is written
	// (default 100 ms).
	Every time.Duration
	// Log receives drops and write failures; nil means slog.Default().
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

// entry is a decision waiting to be written. The context is kept as the
// Request and marshalled by the writer goroutine, off the request path.
type entry struct {
	d      store.Decision
	req    Request
	stepUp bool
}

// NewRecorder starts the writer goroutine; Close stops it.
func NewRecorder(st *store.Store, o RecorderOptions) *Recorder {
	if o.Queue <= 0 {
		o.Queue = 8192
	}
	if o.Batch <= 0 {
		o.Batch = 512
	}
	if o.Every <= 0 {
		o.Every = 100 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	r := &Recorder{st: st, log: o.Log, o: o, ch: make(chan entry, o.Queue),
		syncCh: make(chan chan struct{}), done: make(chan struct{})}
	go r.run()
	return r
}

// Record queues d (with the request it decided, for the context column) and
// returns its ID at once, assigning one if d has none, so a Deny page can
// cite it before it is written. ok is false when the decision was dropped
// because the queue was full or the recorder closed.
func (r *Recorder) Record(d store.Decision, req *Request, stepUp bool) (id string, ok bool) {
	if d.ID == "" {
		if d.At.IsZero() {
			d.At = time.Now()
		}
		d.ID = store.NewDecisionID(d.At)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		r.drop()
		return d.ID, false
	}
	e := entry{d: d, req: *req, stepUp: stepUp}
	// The writer must not keep the live request's maps (the headers carry
	// the token); the context never shows them anyway.
	e.req.HTTP.Header, e.req.HTTP.Query = nil, nil
	select {
	case r.ch <- e:
		return d.ID, true
	default:
		r.drop()
		return d.ID, false
	}
}

func (r *Recorder) drop() {
	r.dropped.Add(1)
	if r.o.Observer != nil {
		r.o.Observer.DecisionDropped()
	}
}

// QueueDepth is how many decisions wait to be written.
func (r *Recorder) QueueDepth() int { return len(r.ch) }

// Sync waits until every decision queued before the call has been written
// (or its write has failed). Tests and the CLI use it; requests never do.
func (r *Recorder) Sync(ctx context.Context) error {
	ack := make(chan struct{})
	select {
	case r.syncCh <- ack:
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued and stops the writer. Later Records are
// dropped.
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
	Written, Dropped, Failed int64
}

// Stats returns the counters.
func (r *Recorder) Stats() RecorderStats {
	return RecorderStats{Written: r.written.Load(), Dropped: r.dropped.Load(), Failed: r.failed.Load()}
}

func (r *Recorder) run() {
	defer close(r.done)
	tick := time.NewTicker(r.o.Every)
	defer tick.Stop()
	batch := make([]store.Decision, 0, min(r.o.Batch, 1024)) // grows if a huge Batch is configured
	var reportedDrops int64
	flush := func() {
		if n := r.dropped.Load(); n > reportedDrops {
			r.log.Warn("decision log queue full: decisions dropped", "dropped", n-reportedDrops, "dropped_total", n)
			reportedDrops = n
		}
		if len(batch) == 0 {
			return
		}
		// A fresh context: the batch must be written even while the server
		// shuts down, and a request's context has long ended.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		start := time.Now()
		collided, err := r.st.InsertDecisions(ctx, batch)
		cancel()
		if r.o.Observer != nil {
			r.o.Observer.DecisionsWritten(batch, time.Since(start), err)
		}
		switch {
		case err != nil:
			r.failed.Add(int64(len(batch)))
			r.log.Error("writing decisions failed", "count", len(batch), "err", err)
		case collided > 0:
			// Another replica took the same ID in the same millisecond.
			r.failed.Add(int64(collided))
			r.written.Add(int64(len(batch) - collided))
			r.log.Error("decisions not written: their ID was taken", "count", collided)
		default:
			r.written.Add(int64(len(batch)))
		}
		batch = batch[:0]
	}
	add := func(e entry) {
		e.d.Context = marshalContext(&e.req, e.stepUp)
		batch = append(batch, e.d)
		if len(batch) >= r.o.Batch {
			flush()
		}
	}
	for {
		select {
		case e, ok := <-r.ch:
			if !ok {
				flush()
				return
			}
			add(e)
		case <-tick.C:
			flush()
		case ack := <-r.syncCh:
			// Everything queued before Sync was called is in the channel now.
			for n := len(r.ch); n > 0; n-- {
				e, ok := <-r.ch
				if !ok {
					break
				}
				add(e)
			}
			flush()
			close(ack)
		}
	}
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
	Issuer      string               `json:"issuer,omitempty"`
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
