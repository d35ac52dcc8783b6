package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Decision is one recorded policy evaluation. Decisions are platform-wide;
// OrgID is the organization the request acted for, so that an org admin can
// be shown their own organization's decisions and nobody else's.
type Decision struct {
	ID      string    `json:"id"`
	At      time.Time `json:"at"`
	Point   string    `json:"point"`
	OrgID   string    `json:"org_id,omitempty"`
	UserID  string    `json:"user_id,omitempty"`
	Subject string    `json:"subject,omitempty"` // an email, or a client_id for machines
	// ClientID is the public client_id of the application asking.
	ClientID string `json:"client_id,omitempty"`
	// Context is what the decision looked at (ip, country, groups, mfa…).
	Context       json.RawMessage `json:"context,omitempty"`
	PolicyID      string          `json:"policy_id,omitempty"`
	PolicyName    string          `json:"policy_name,omitempty"` // filled when read
	PolicyVersion int             `json:"policy_version,omitempty"`
	Rule          int             `json:"rule,omitempty"` // 1-based; 0 when the default decided
	Action        string          `json:"action"`
	Reason        string          `json:"reason"`
	// The report-only (shadow) version's outcome, when the policy had one
	// attached: evaluated beside the enforced version, never enforced.
	// ShadowAction is "" when there was none.
	ShadowVersion int    `json:"shadow_version,omitempty"`
	ShadowRule    int    `json:"shadow_rule,omitempty"`
	ShadowAction  string `json:"shadow_action,omitempty"`
	ShadowReason  string `json:"shadow_reason,omitempty"`
}

// The decision log is the one table that grows with traffic rather than
// with customers (millions of rows a day), so a row is kept small:
//
//   - The ID is an integer that is also the time: Unix milliseconds << 20,
//     then 8 random bits fixed per process and a 12-bit counter. Rows append
//     in time order, time ranges are primary-key ranges, and every index on
//     the table is in time order within its key for free. The reference a
//     Deny page shows is this number in base 36.
//   - Everything repetitive is a reference into decision_refs, a lookup
//     table of distinct strings: the point, organization, who (user or
//     machine, with its subject), client, the outcome (policy, version, rule, action
//     and reason together: reasons are fixed per rule) and the part of the
//     context that repeats from request to request (country, groups,
//     scopes, plan…). The ip, its location, mfa_at and stepped_up change
//     per request and are kept inline in a few bytes (column extra).
//
// References are immutable once written, so both directions are cached in
// memory; reading a page of decisions resolves them without joins.

const (
	decisionSeqBits      = 12
	decisionInstanceBits = 8
	decisionTimeShift    = decisionSeqBits + decisionInstanceBits
)

var (
	decisionInstance int64
	decisionSeq      atomic.Int64
)

func init() {
	var b [4]byte
	rand.Read(b[:])
	decisionInstance = int64(b[0])
	decisionSeq.Store(int64(binary.BigEndian.Uint16(b[1:3])))
}

// NewDecisionID returns a fresh decision ID for a decision made at at.
// Two replicas collide only if they picked the same random instance bits
// and counter value in the same millisecond; an insert that collides is
// not written (InsertDecisions counts it).
func NewDecisionID(at time.Time) string {
	return strconv.FormatInt(newDecisionKey(at), 36)
}

func newDecisionKey(at time.Time) int64 {
	seq := decisionSeq.Add(1) & (1<<decisionSeqBits - 1)
	return at.UnixMilli()<<decisionTimeShift | decisionInstance<<decisionSeqBits | seq
}

// parseDecisionID reads an ID NewDecisionID made; ok is false for anything
// else (including the text IDs of the old decision table).
func parseDecisionID(id string) (int64, bool) {
	if id == "" || len(id) > 13 {
		return 0, false
	}
	n, err := strconv.ParseInt(id, 36, 64)
	return n, err == nil && n > 0
}

func decisionKeyTime(k int64) time.Time { return fromMS(k >> decisionTimeShift) }

// decisionTimeKey is the smallest key of a decision made at t or later.
func decisionTimeKey(t time.Time) int64 { return t.UnixMilli() << decisionTimeShift }

// Reference kinds: the prefix of a decision_refs value.
const (
	refPoint = "p:"
	refOrg   = "o:"
	// refWho is the user ID and subject together ("w:" user "\x1f"
	// subject), with the subject also in the row's alt column, so that one
	// index finds a user's decisions by either.
	refWho     = "w:"
	whoSep     = "\x1f"
	refClient  = "c:"
	refOutcome = "r:"
	refContext = "x:"
)

// refCache maps decision_refs values to IDs and back. It only ever holds
// committed rows; it is dropped whole when it grows past its bound.
type refCache struct {
	mu    sync.RWMutex
	ids   map[string]int64
	names map[int64]string
}

const refCacheMax = 100_000

// refCaches holds one cache per database (keyed by its engine).
var refCaches sync.Map

func (s *Store) refs() *refCache {
	if c, ok := refCaches.Load(s.e); ok {
		return c.(*refCache)
	}
	c, _ := refCaches.LoadOrStore(s.e, &refCache{ids: map[string]int64{}, names: map[int64]string{}})
	return c.(*refCache)
}

func (c *refCache) lookup(v string) (int64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	id, ok := c.ids[v]
	return id, ok
}

func (c *refCache) name(id int64) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.names[id]
	return v, ok
}

func (c *refCache) add(m map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.ids)+len(m) > refCacheMax {
		c.ids, c.names = map[string]int64{}, map[int64]string{}
	}
	for v, id := range m {
		c.ids[v], c.names[id] = id, v
	}
}

// refIDs resolves values to reference IDs inside a write transaction,
// into out (as long as values), creating the missing ones; the new pairs go
// into fresh, which the caller adds to the cache once the transaction has
// committed.
func (s *Store) refIDs(ctx context.Context, w *refWriter, values []string, out []int64) error {
	for i, v := range values {
		out[i] = 0
		if v == "" {
			continue
		}
		if id, ok := w.fresh[v]; ok {
			out[i] = id
			continue
		}
		if id, ok := w.cache.lookup(v); ok {
			out[i] = id
			continue
		}
		alt := ""
		if strings.HasPrefix(v, refWho) {
			_, alt, _ = strings.Cut(v, whoSep)
		}
		// A new value is one statement; one another writer added meanwhile
		// returns no row from the insert and is read back.
		err := w.q.QueryRowContext(ctx, refInsertSQL, v, alt).Scan(&out[i])
		if errors.Is(err, sql.ErrNoRows) {
			err = w.q.QueryRowContext(ctx, refLookupSQL, v).Scan(&out[i])
		}
		if err != nil {
			return err
		}
		w.fresh[v] = out[i]
	}
	return nil
}

// refWriter writes a batch's new references through its transaction (whose
// querier reuses the statements prepared on the writer, on SQLite).
type refWriter struct {
	cache *refCache
	fresh map[string]int64
	q     querier
}

const (
	refInsertSQL = `INSERT INTO decision_refs (value, alt) VALUES (?, NULLIF(?, ''))
		ON CONFLICT (value) DO NOTHING RETURNING id`
	refLookupSQL = `SELECT id FROM decision_refs WHERE value = ?`
)

func (s *Store) newRefWriter(cache *refCache, fresh map[string]int64) *refWriter {
	return &refWriter{cache: cache, fresh: fresh, q: s.q}
}

// refNames resolves reference IDs to values, from the cache or one query.
func (s *Store) refNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	cache := s.refs()
	out := map[int64]string{}
	var missing []any
	for _, id := range ids {
		if id == 0 {
			continue
		}
		if v, ok := cache.name(id); ok {
			out[id] = v
		} else if _, seen := out[id]; !seen {
			out[id] = ""
			missing = append(missing, id)
		}
	}
	for len(missing) > 0 {
		chunk := missing[:min(len(missing), 500)]
		missing = missing[len(chunk):]
		rows, err := s.q.QueryContext(ctx, `SELECT id, value FROM decision_refs WHERE id IN (?`+
			strings.Repeat(", ?", len(chunk)-1)+`)`, chunk...)
		if err != nil {
			return nil, err
		}
		found := map[string]int64{}
		for rows.Next() {
			var id int64
			var v string
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return nil, err
			}
			out[id], found[v] = v, id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		cache.add(found)
	}
	return out, nil
}

// existingRefs returns the IDs of those values that have a reference, with
// no writes: filters use it (a value never referenced matches nothing).
func (s *Store) existingRefs(ctx context.Context, values ...string) ([]any, error) {
	cache := s.refs()
	var out, missing []any
	for _, v := range values {
		if id, ok := cache.lookup(v); ok {
			out = append(out, id)
		} else {
			missing = append(missing, v)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	rows, err := s.q.QueryContext(ctx, `SELECT id, value FROM decision_refs WHERE value IN (?`+
		strings.Repeat(", ?", len(missing)-1)+`)`, missing...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := map[string]int64{}
	for rows.Next() {
		var id int64
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			return nil, err
		}
		out, found[v] = append(out, id), id
	}
	cache.add(found)
	return out, rows.Err()
}

// whoRefs returns the who references of a user ID or a subject: by
// prefix of the value for the user ID, by alt for the subject.
func (s *Store) whoRefs(ctx context.Context, user string) ([]any, error) {
	lo := refWho + user + whoSep
	hi := refWho + user + "\x20" // the byte after whoSep
	rows, err := s.q.QueryContext(ctx, qWhoRefs, lo, hi, user)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

const qWhoRefs = `SELECT id FROM decision_refs WHERE (value >= ? AND value < ?) OR alt = ?`

// outcome is the part of a decision that its policy's rule decides.
type outcome struct {
	PolicyID string
	Version  int
	Rule     int
	Action   string
	Reason   string
}

func (o outcome) ref() string {
	if v, ok := outcomeRefs.Load(o); ok {
		return v.(string)
	}
	b, _ := json.Marshal([]any{o.PolicyID, o.Version, o.Rule, o.Action, o.Reason})
	v := refOutcome + string(b)
	if nOutcomeRefs.Add(1) > outcomeRefsMax {
		outcomeRefs.Clear()
		nOutcomeRefs.Store(0)
	}
	outcomeRefs.Store(o, v)
	return v
}

// outcomeRefs caches outcome.ref, which every decision needs: outcomes are
// few (a policy's versions and rules; reasons are fixed per rule), and
// marshalling one costs more than the rest of preparing a decision's row.
// It is emptied whole past its bound.
var (
	outcomeRefs    sync.Map // outcome -> string
	nOutcomeRefs   atomic.Int64
	outcomeRefsMax int64 = 4096
)

func parseOutcome(v string) outcome {
	var a []json.RawMessage
	var o outcome
	if json.Unmarshal([]byte(strings.TrimPrefix(v, refOutcome)), &a) != nil || len(a) != 5 {
		return o
	}
	json.Unmarshal(a[0], &o.PolicyID)
	json.Unmarshal(a[1], &o.Version)
	json.Unmarshal(a[2], &o.Rule)
	json.Unmarshal(a[3], &o.Action)
	json.Unmarshal(a[4], &o.Reason)
	return o
}

// Context keys kept inline (they change per request); the rest of the
// context object is shared by reference. The inline encoding (column
// extra) is: a flags byte, then the ip (4 or 16 bytes) when flagIP, the
// location's prefix length (1 byte, the location being the ip masked) when
// flagLoc, mfa_at as a uvarint of milliseconds before the decision (or
// after it, flagMFAAfter) when flagMFA, then with flagAuth one varint of
// milliseconds before the decision per auth method (the method names, sorted,
// stay in the shared part as a list), and with flagToken the token's
// issued-at as a varint of milliseconds before the decision.
const (
	flagIP = 1 << iota
	flagIP6
	flagLoc
	flagMFA
	flagMFAAfter
	flagSteppedUp
	flagAuth
	flagToken
)

// msTime reads a JSON time that survives a round trip through Unix
// milliseconds in UTC, the only ones kept inline.
func msTime(v json.RawMessage) (time.Time, bool) {
	var t time.Time
	if json.Unmarshal(v, &t) != nil || !t.Equal(fromMS(t.UnixMilli())) || string(v) != `"`+t.UTC().Format(time.RFC3339Nano)+`"` {
		return t, false
	}
	return t, true
}

// splitContext separates the per-request part of a context object from the
// part that repeats. Anything it cannot encode compactly stays shared.
func splitContext(raw json.RawMessage, at time.Time) (shared string, extra []byte) {
	if len(raw) == 0 || string(raw) == "{}" || string(raw) == "null" {
		return "", nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return refContext + string(raw), nil
	}
	var flags byte
	var buf []byte
	var ip netip.Addr
	if v, ok := m["ip"]; ok {
		var s string
		if json.Unmarshal(v, &s) == nil {
			if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" && a.String() == s {
				ip = a
				flags |= flagIP
				if a.Is6() {
					flags |= flagIP6
				}
				buf = append(buf, a.AsSlice()...)
				delete(m, "ip")
			}
		}
	}
	if v, ok := m["location"]; ok && ip.IsValid() {
		var s string
		if json.Unmarshal(v, &s) == nil {
			if p, err := netip.ParsePrefix(s); err == nil && p.Addr().Is6() == ip.Is6() && p.Masked() == p &&
				p.Contains(ip) && p.String() == s {
				flags |= flagLoc
				buf = append(buf, byte(p.Bits()))
				delete(m, "location")
			}
		}
	}
	if v, ok := m["mfa_at"]; ok {
		var t time.Time
		if json.Unmarshal(v, &t) == nil && t.Equal(fromMS(t.UnixMilli())) && string(v) == `"`+t.UTC().Format(time.RFC3339Nano)+`"` {
			d := at.UnixMilli() - t.UnixMilli()
			flags |= flagMFA
			if d < 0 {
				flags |= flagMFAAfter
				d = -d
			}
			buf = binary.AppendUvarint(buf, uint64(d))
			delete(m, "mfa_at")
		}
	}
	if v, ok := m["stepped_up"]; ok && string(v) == "true" {
		flags |= flagSteppedUp
		delete(m, "stepped_up")
	}
	if v, ok := m["auth_methods"]; ok {
		var raw map[string]json.RawMessage
		if json.Unmarshal(v, &raw) == nil && len(raw) > 0 {
			names := slices.Sorted(maps.Keys(raw))
			deltas := make([]int64, 0, len(names))
			for _, n := range names {
				t, ok := msTime(raw[n])
				if !ok {
					deltas = nil
					break
				}
				deltas = append(deltas, at.UnixMilli()-t.UnixMilli())
			}
			if deltas != nil {
				flags |= flagAuth
				for _, d := range deltas {
					buf = binary.AppendVarint(buf, d)
				}
				m["auth_methods"], _ = json.Marshal(names)
			}
		}
	}
	if v, ok := m["token_iat"]; ok {
		if t, ok := msTime(v); ok {
			flags |= flagToken
			buf = binary.AppendVarint(buf, at.UnixMilli()-t.UnixMilli())
			delete(m, "token_iat")
		}
	}
	if len(m) > 0 {
		b, _ := json.Marshal(m) // sorted keys: equal contexts share one row
		shared = refContext + string(b)
	}
	if flags == 0 {
		return shared, nil
	}
	return shared, append([]byte{flags}, buf...)
}

// joinContext is splitContext's inverse (keys come back sorted).
func joinContext(shared string, extra []byte, at time.Time) json.RawMessage {
	m := map[string]json.RawMessage{}
	if shared != "" {
		if json.Unmarshal([]byte(strings.TrimPrefix(shared, refContext)), &m) != nil {
			return json.RawMessage(strings.TrimPrefix(shared, refContext))
		}
	}
	if len(extra) > 0 {
		flags, b := extra[0], extra[1:]
		var ip netip.Addr
		if flags&flagIP != 0 {
			n := 4
			if flags&flagIP6 != 0 {
				n = 16
			}
			if len(b) >= n {
				ip, _ = netip.AddrFromSlice(b[:n])
				b = b[n:]
				m["ip"], _ = json.Marshal(ip.String())
			}
		}
		if flags&flagLoc != 0 && len(b) >= 1 {
			p, _ := ip.Prefix(int(b[0]))
			b = b[1:]
			m["location"], _ = json.Marshal(p.String())
		}
		if flags&flagMFA != 0 {
			if d, n := binary.Uvarint(b); n > 0 {
				v := int64(d)
				if flags&flagMFAAfter != 0 {
					v = -v
				}
				m["mfa_at"], _ = json.Marshal(fromMS(at.UnixMilli() - v))
			}
		}
		if flags&flagSteppedUp != 0 {
			m["stepped_up"] = json.RawMessage("true")
		}
		var x ContextExtra
		decodeExtra(extra, at, sharedAuthNames(m["auth_methods"]), &x)
		if flags&flagAuth != 0 {
			am := make(map[string]time.Time, len(x.AuthNames))
			for i, n := range x.AuthNames {
				am[n] = x.AuthAt[i]
			}
			m["auth_methods"], _ = json.Marshal(am)
		}
		if flags&flagToken != 0 {
			m["token_iat"], _ = json.Marshal(x.TokenIssuedAt)
		}
	}
	if len(m) == 0 {
		return json.RawMessage("{}")
	}
	b, _ := json.Marshal(m)
	return b
}

func sharedAuthNames(v json.RawMessage) []string {
	var names []string
	if len(v) > 0 && v[0] == '[' {
		json.Unmarshal(v, &names)
	}
	return names
}

// ContextExtra is the per-request part of a decision's context (column
// extra) decoded, for readers that parse the shared part once per distinct
// value (replay). AuthNames are the auth methods' names from the shared
// part and AuthAt their times, in the same order.
type ContextExtra struct {
	IP netip.Addr
	// Location is the ip's location when it is kept inline (the ip
	// masked); invalid otherwise.
	Location      netip.Prefix
	MFAAt         time.Time
	SteppedUp     bool
	AuthNames     []string
	AuthAt        []time.Time
	TokenIssuedAt time.Time
}

// DecodeContextExtra decodes extra of a decision made at at into x,
// reusing x's slices; authNames are the sorted method names the shared part
// lists under "auth_methods" (see AuthMethodNames).
func DecodeContextExtra(extra []byte, at time.Time, authNames []string, x *ContextExtra) {
	decodeExtra(extra, at, authNames, x)
}

// AuthMethodNames reads the method names a shared context part lists under
// "auth_methods" when their times are inline; nil otherwise.
func AuthMethodNames(v json.RawMessage) []string { return sharedAuthNames(v) }

func decodeExtra(extra []byte, at time.Time, authNames []string, x *ContextExtra) {
	*x = ContextExtra{AuthNames: x.AuthNames[:0], AuthAt: x.AuthAt[:0]}
	if len(extra) == 0 {
		return
	}
	flags, b := extra[0], extra[1:]
	if flags&flagIP != 0 {
		n := 4
		if flags&flagIP6 != 0 {
			n = 16
		}
		if len(b) < n {
			return
		}
		x.IP, _ = netip.AddrFromSlice(b[:n])
		b = b[n:]
	}
	if flags&flagLoc != 0 {
		if len(b) < 1 {
			return
		}
		x.Location, _ = x.IP.Prefix(int(b[0]))
		b = b[1:]
	}
	if flags&flagMFA != 0 {
		d, n := binary.Uvarint(b)
		if n <= 0 {
			return
		}
		b = b[n:]
		v := int64(d)
		if flags&flagMFAAfter != 0 {
			v = -v
		}
		x.MFAAt = fromMS(at.UnixMilli() - v)
	}
	x.SteppedUp = flags&flagSteppedUp != 0
	if flags&flagAuth != 0 {
		for _, name := range authNames {
			d, n := binary.Varint(b)
			if n <= 0 {
				return
			}
			b = b[n:]
			x.AuthNames = append(x.AuthNames, name)
			x.AuthAt = append(x.AuthAt, fromMS(at.UnixMilli()-d))
		}
	}
	if flags&flagToken != 0 {
		if d, n := binary.Varint(b); n > 0 {
			x.TokenIssuedAt = fromMS(at.UnixMilli() - d)
		}
	}
}

// encodeExtra is decodeExtra's inverse: the inline bytes for x (nil when
// x holds nothing). x.AuthNames must be sorted.
func encodeExtra(x *ContextExtra, at time.Time) []byte {
	var flags byte
	b := make([]byte, 1, 32)
	if x.IP.IsValid() {
		flags |= flagIP
		if x.IP.Is6() {
			flags |= flagIP6
		}
		b = append(b, x.IP.AsSlice()...)
		if x.Location.IsValid() {
			flags |= flagLoc
			b = append(b, byte(x.Location.Bits()))
		}
	}
	if !x.MFAAt.IsZero() {
		d := at.UnixMilli() - x.MFAAt.UnixMilli()
		flags |= flagMFA
		if d < 0 {
			flags |= flagMFAAfter
			d = -d
		}
		b = binary.AppendUvarint(b, uint64(d))
	}
	if x.SteppedUp {
		flags |= flagSteppedUp
	}
	if len(x.AuthAt) > 0 {
		flags |= flagAuth
		for _, t := range x.AuthAt {
			b = binary.AppendVarint(b, at.UnixMilli()-t.UnixMilli())
		}
	}
	if !x.TokenIssuedAt.IsZero() {
		flags |= flagToken
		b = binary.AppendVarint(b, at.UnixMilli()-x.TokenIssuedAt.UnixMilli())
	}
	if flags == 0 {
		return nil
	}
	b[0] = flags
	return b
}

func whoRef(d *Decision) string {
	if d.UserID == "" && d.Subject == "" {
		return ""
	}
	return refWho + d.UserID + whoSep + d.Subject
}

func prefixed(prefix, v string) string {
	if v == "" {
		return ""
	}
	return prefix + v
}

// PendingDecision is a decision made ready to write by PrepareDecision: its
// key, the values of its references and its inline context computed, so
// that the one writer (the recorder's group commit) only resolves
// references and binds. Its Decision is the decision as given, with ID and
// At filled; WriteDecisions updates ID when the key had to change.
type PendingDecision struct {
	Decision Decision
	key      int64
	refs     [numDecisionRefs]string
	extra    []byte
}

// The references of a decision row, in PendingDecision.refs.
const (
	drPoint = iota
	drOrg
	drWho
	drClient
	drOutcome
	drContext
	drShadow
	numDecisionRefs
)

// PrepareDecision does the per-decision work of writing d that needs no
// database: a time (now) and an ID when d has none (or one NewDecisionID
// did not make for d.At), the split of its context into the shared and
// inline parts, and the values of its references. It is safe to call from
// any goroutine.
func PrepareDecision(d Decision) PendingDecision {
	if d.At.IsZero() {
		d.At = time.Now()
	}
	key, ok := parseDecisionID(d.ID)
	if !ok || key>>decisionTimeShift != d.At.UnixMilli() {
		key = newDecisionKey(d.At)
		d.ID = strconv.FormatInt(key, 36)
	}
	p := PendingDecision{Decision: d, key: key}
	var shared string
	shared, p.extra = splitContext(d.Context, d.At)
	p.refs = [numDecisionRefs]string{prefixed(refPoint, d.Point), prefixed(refOrg, d.OrgID), whoRef(&d),
		prefixed(refClient, d.ClientID), outcome{d.PolicyID, d.PolicyVersion, d.Rule, d.Action, d.Reason}.ref(), shared, ""}
	if d.ShadowAction != "" {
		p.refs[drShadow] = outcome{d.PolicyID, d.ShadowVersion, d.ShadowRule, d.ShadowAction, d.ShadowReason}.ref()
	}
	return p
}

// PrepareDecisionSplit is PrepareDecision for a caller that has already
// split the context the way the log keeps it, which is cheaper than
// marshalling it whole for PrepareDecision to parse and split again:
// shared is the JSON object of the part that repeats (keys sorted, as
// json.Marshal writes a map's; auth_methods as the sorted list of the
// method names), x the part kept inline, as DecodeContextExtra returns it
// (times in whole UTC milliseconds; Location the ip masked). d.Context is
// neither read nor set. The row written is the one PrepareDecision writes
// for the whole context; policyeditor's tests check that it is.
func PrepareDecisionSplit(d Decision, shared []byte, x *ContextExtra) PendingDecision {
	d.Context = nil
	p := PrepareDecision(d)
	if len(shared) > 0 && string(shared) != "{}" {
		p.refs[drContext] = refContext + string(shared)
	}
	p.extra = encodeExtra(x, p.Decision.At)
	return p
}

// StoredContext is the context as the row will hold it: the shared value
// and the inline bytes (for tests comparing ways of preparing a decision).
func (p *PendingDecision) StoredContext() (shared string, extra []byte) {
	return p.refs[drContext], p.extra
}

// InsertDecisions writes a batch of decisions with one commit (see
// WriteDecisions): one commit per batch is what keeps the log cheap under
// token-endpoint load. A
// decision without an ID (or with one NewDecisionID did not make) gets one,
// written back into ds; one without a time is stamped now. A decision whose
// ID is already taken is given a fresh one (written back too); it returns
// how many decisions still found theirs taken after three fresh tries.
func (s *Store) InsertDecisions(ctx context.Context, ds []Decision) (collided int, err error) {
	ps := make([]PendingDecision, len(ds))
	for i := range ds {
		ps[i] = PrepareDecision(ds[i])
	}
	collided, err = s.WriteDecisions(ctx, ps)
	for i := range ps {
		ds[i].ID, ds[i].At = ps[i].Decision.ID, ps[i].Decision.At
	}
	return collided, err
}

// decisionInsertChunk is the most rows one INSERT writes: 10 parameters a
// row, far inside SQLite's 32766 and PostgreSQL's 65535. Chunks are powers
// of two, so that a handful of statement shapes are prepared once and
// reused whatever the batch sizes.
const decisionInsertChunk = 256

// decisionInserts are the INSERTs by log2 of their row count, for SQLite
// and for PostgreSQL. On SQLite the statement is INSERT OR IGNORE rather
// than ON CONFLICT DO NOTHING: a multi-row statement that may abort (the
// default for a NOT NULL column) makes SQLite keep a statement journal, a
// copy of every page the statement changes, spilled to a temporary file
// past 64 KiB; one whose every constraint ignores cannot abort and needs
// none. The row a constraint ignores is missing from RETURNING, as a taken
// ID is, and is retried the same way (the store never binds a NULL).
var decisionInserts [2][10]string

func init() {
	const cols = ` INTO decisions (id, point_ref, org_ref, who_ref, client_ref, outcome_ref,
			action, context_ref, extra, shadow_ref) VALUES `
	const row = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	for i := range decisionInserts[0] {
		values := row + strings.Repeat(", "+row, 1<<i-1)
		decisionInserts[0][i] = `INSERT OR IGNORE` + cols + values + ` RETURNING id`
		decisionInserts[1][i] = `INSERT` + cols + values + ` ON CONFLICT (id) DO NOTHING RETURNING id`
	}
}

// WriteDecisions writes prepared decisions (see InsertDecisions): a batch of
// up to decisionStatementRows outside a transaction as one statement (see
// writeDecisionsAtOnce, whose rare retries of taken IDs commit separately,
// so an error there leaves the rest of the batch written), a larger one or
// one inside a transaction as a few multi-row INSERTs in it. The writer
// resolves the references (the cache holds nearly all) and binds; the rest
// was done by PrepareDecision on the callers' goroutines.
func (s *Store) WriteDecisions(ctx context.Context, ps []PendingDecision) (collided int, err error) {
	if len(ps) == 0 {
		return 0, nil
	}
	if !s.inTx && len(ps) <= decisionStatementRows {
		return s.writeDecisionsAtOnce(ctx, ps)
	}
	cache := s.refs()
	fresh := map[string]int64{}
	args := make([]any, 0, 10*min(len(ps), decisionInsertChunk))
	written := map[int64]bool{}
	inserts := &decisionInserts[0]
	if s.e.pg {
		inserts = &decisionInserts[1]
	}
	err = s.InTx(ctx, func(tx *Store) error {
		collided = 0
		clear(fresh)
		w := tx.newRefWriter(cache, fresh)
		refs := make([][numDecisionRefs]int64, len(ps))
		for i := range ps {
			if err := tx.refIDs(ctx, w, ps[i].refs[:], refs[i][:]); err != nil {
				return fmt.Errorf("store: insert decisions: %w", err)
			}
		}
		bind := func(i int) {
			p, r := &ps[i], &refs[i]
			shadow := sql.NullInt64{Int64: r[drShadow], Valid: r[drShadow] != 0}
			args = append(args, p.key, r[drPoint], r[drOrg], r[drWho], r[drClient], r[drOutcome], p.Decision.Action,
				r[drContext], p.extra, shadow)
		}
		// Powers of two, largest first: 37 rows are 32 + 4 + 1.
		retry := []int(nil)
		for i := 0; i < len(ps); {
			k := bits.Len(uint(min(len(ps)-i, decisionInsertChunk))) - 1
			n := 1 << k
			args = args[:0]
			for j := i; j < i+n; j++ {
				bind(j)
			}
			clear(written)
			if err := tx.insertedKeys(ctx, inserts[k], args, written); err != nil {
				return fmt.Errorf("store: insert decisions: %w", err)
			}
			if len(written) < n {
				// Each written key accounts for one row: a key given twice
				// in the batch was written once.
				for j := i; j < i+n; j++ {
					if written[ps[j].key] {
						delete(written, ps[j].key)
					} else {
						retry = append(retry, j)
					}
				}
			}
			i += n
		}
		// A taken ID (another replica, the same millisecond and random
		// bits) gets a fresh one: callers read the written ID back.
		for _, i := range retry {
			p := &ps[i]
			for attempt := 0; ; attempt++ {
				if attempt == 3 {
					collided++
					break
				}
				p.key = newDecisionKey(p.Decision.At)
				p.Decision.ID = strconv.FormatInt(p.key, 36)
				args = args[:0]
				bind(i)
				clear(written)
				if err := tx.insertedKeys(ctx, inserts[0], args, written); err != nil {
					return fmt.Errorf("store: insert decisions: %w", err)
				}
				if written[p.key] {
					break
				}
			}
		}
		return nil
	})
	if err == nil {
		cache.add(fresh)
	}
	return collided, err
}

// decisionStatementRows is the most rows writeDecisionsAtOnce writes in
// its one statement (5120 parameters).
const decisionStatementRows = 512

// writeDecisionsAtOnce writes a batch as one INSERT outside any explicit
// transaction. A statement is atomic by itself; outside a transaction
// SQLite keeps no statement journal for it, which inside one costs a copy
// of every page the statement changes (a sixth of the writer's time), and
// PostgreSQL needs no BEGIN and COMMIT round trips. The
// row count is rounded up to a power of two by repeating the last row,
// which the statement ignores as a taken ID, so that ten statement shapes,
// prepared once, serve every batch size. References are resolved from the
// cache; the rare new ones are created first, in their own transaction (an
// unused reference is harmless). Decisions whose IDs were taken are
// retried with fresh ones in a transaction.
func (s *Store) writeDecisionsAtOnce(ctx context.Context, ps []PendingDecision) (collided int, err error) {
	cache := s.refs()
	refs := make([][numDecisionRefs]int64, len(ps))
	missing := false
	cache.mu.RLock()
	for i := range ps {
		for j, v := range ps[i].refs {
			if v == "" {
				continue
			}
			id, ok := cache.ids[v]
			if !ok {
				missing = true
			}
			refs[i][j] = id
		}
	}
	cache.mu.RUnlock()
	if missing {
		fresh := map[string]int64{}
		err := s.InTx(ctx, func(tx *Store) error {
			clear(fresh)
			w := tx.newRefWriter(cache, fresh)
			for i := range ps {
				if err := tx.refIDs(ctx, w, ps[i].refs[:], refs[i][:]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("store: insert decisions: %w", err)
		}
		cache.add(fresh)
	}
	k := bits.Len(uint(len(ps) - 1)) // 2^k >= len(ps)
	args := make([]any, 0, 10<<k)
	for i := range 1 << k {
		p, r := &ps[min(i, len(ps)-1)], &refs[min(i, len(ps)-1)]
		args = append(args, p.key, r[drPoint], r[drOrg], r[drWho], r[drClient], r[drOutcome], p.Decision.Action,
			r[drContext], p.extra, sql.NullInt64{Int64: r[drShadow], Valid: r[drShadow] != 0})
	}
	written := make(map[int64]bool, len(ps))
	q := decisionInserts[0][k]
	if s.e.pg {
		q = decisionInserts[1][k]
	}
	if err := s.insertedKeys(ctx, q, args, written); err != nil {
		return 0, fmt.Errorf("store: insert decisions: %w", err)
	}
	if len(written) == len(ps) {
		return 0, nil
	}
	// Each written key accounts for one decision: a key given twice in
	// the batch was written once.
	var retry []PendingDecision
	var at []int
	for i := range ps {
		if written[ps[i].key] {
			delete(written, ps[i].key)
		} else {
			retry, at = append(retry, ps[i]), append(at, i)
		}
	}
	// The transaction's path gives each a fresh ID first: their own is taken.
	for i := range retry {
		retry[i].key = newDecisionKey(retry[i].Decision.At)
		retry[i].Decision.ID = strconv.FormatInt(retry[i].key, 36)
	}
	err = s.InTx(ctx, func(tx *Store) error {
		var err error
		collided, err = tx.WriteDecisions(ctx, retry)
		return err
	})
	for j, i := range at {
		ps[i].key, ps[i].Decision.ID = retry[j].key, retry[j].Decision.ID
	}
	return collided, err
}

// insertedKeys runs a decisions INSERT … RETURNING id and notes the keys
// it wrote.
func (s *Store) insertedKeys(ctx context.Context, q string, args []any, into map[int64]bool) error {
	rows, err := s.q.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			return err
		}
		into[k] = true
	}
	return rows.Err()
}

// DecisionFilter selects decisions. OrgID "" means every organization, which
// only platform admins may ask for; the other fields narrow when set.
type DecisionFilter struct {
	OrgID    string
	From     time.Time // inclusive
	Until    time.Time // exclusive
	User     string    // a user ID or a subject (email, machine client_id)
	ClientID string
	Action   string
	Point    string
	Limit    int // at most 5000; 0 means 200
}

const decisionColumns = `d.point_ref, d.org_ref, d.who_ref, d.client_ref, d.outcome_ref, d.action,
	d.context_ref, d.extra, d.shadow_ref`

// decisionRow is a stored row before its references are resolved.
type decisionRow struct {
	key                                     int64
	point, org, who, client, outcome, cxref int64
	action                                  string
	extra                                   []byte
	shadow                                  sql.NullInt64
}

func scanDecisionRow(row interface{ Scan(...any) error }) (decisionRow, error) {
	var r decisionRow
	err := row.Scan(&r.point, &r.org, &r.who, &r.client, &r.outcome, &r.action, &r.cxref, &r.extra, &r.shadow)
	return r, err
}

// resolveDecisions turns stored rows into decisions: references from the
// cache (one query for those it lacks) and policy names in one query.
func (s *Store) resolveDecisions(ctx context.Context, rows []decisionRow) ([]Decision, error) {
	var ids []int64
	for _, r := range rows {
		ids = append(ids, r.point, r.org, r.who, r.client, r.outcome, r.cxref, r.shadow.Int64)
	}
	names, err := s.refNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Decision, len(rows))
	policies := map[string]string{}
	for i, r := range rows {
		d := &out[i]
		d.ID, d.At, d.Action = strconv.FormatInt(r.key, 36), decisionKeyTime(r.key), r.action
		d.Point = strings.TrimPrefix(names[r.point], refPoint)
		d.OrgID = strings.TrimPrefix(names[r.org], refOrg)
		d.UserID, d.Subject, _ = strings.Cut(strings.TrimPrefix(names[r.who], refWho), whoSep)
		d.ClientID = strings.TrimPrefix(names[r.client], refClient)
		o := parseOutcome(names[r.outcome])
		d.PolicyID, d.PolicyVersion, d.Rule, d.Reason = o.PolicyID, o.Version, o.Rule, o.Reason
		d.Context = joinContext(names[r.cxref], r.extra, d.At)
		if r.shadow.Valid {
			sh := parseOutcome(names[r.shadow.Int64])
			d.ShadowVersion, d.ShadowRule, d.ShadowAction, d.ShadowReason = sh.Version, sh.Rule, sh.Action, sh.Reason
		}
		if d.PolicyID != "" {
			policies[d.PolicyID] = ""
		}
	}
	if len(policies) > 0 {
		keys := slices.Collect(maps.Keys(policies))
		args := make([]any, len(keys))
		for i, k := range keys {
			args[i] = k
		}
		prow, err := s.q.QueryContext(ctx, `SELECT id, name FROM policies WHERE id IN (?`+
			strings.Repeat(", ?", len(keys)-1)+`)`, args...)
		if err != nil {
			return nil, err
		}
		defer prow.Close()
		for prow.Next() {
			var id, name string
			if err := prow.Scan(&id, &name); err != nil {
				return nil, err
			}
			policies[id] = name
		}
		if err := prow.Err(); err != nil {
			return nil, err
		}
		for i := range out {
			out[i].PolicyName = policies[out[i].PolicyID]
		}
	}
	return out, nil
}

// decisionList is the decision log's keyset list: newest first by ID,
// which is time order.
var decisionList = listQuery{name: "decisions", from: "decisions d", columns: decisionColumns,
	key: "d.id", id: "d.id", desc: true}

// decisionConditions turns a filter into SQL conditions on indexed
// columns. none is true when the filter names something never logged, so
// nothing can match.
func (s *Store) decisionConditions(ctx context.Context, f DecisionFilter) (where []string, args []any, none bool, err error) {
	in := func(col string, ids []any) {
		where = append(where, col+" IN (?"+strings.Repeat(", ?", len(ids)-1)+")")
		args = append(args, ids...)
	}
	ref := func(col string, values ...string) error {
		if none {
			return nil
		}
		ids, err := s.existingRefs(ctx, values...)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			none = true
			return nil
		}
		in(col, ids)
		return nil
	}
	if f.OrgID != "" {
		if err := ref("d.org_ref", refOrg+f.OrgID); err != nil {
			return nil, nil, false, err
		}
	}
	if !f.From.IsZero() {
		where, args = append(where, "d.id >= ?"), append(args, decisionTimeKey(f.From))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "d.id < ?"), append(args, decisionTimeKey(f.Until))
	}
	if f.User != "" {
		// A user ID, or a subject: an email (every account with it) or a
		// machine's client_id.
		if !none {
			ids, err := s.whoRefs(ctx, f.User)
			if err != nil {
				return nil, nil, false, err
			}
			if len(ids) == 0 {
				none = true
			} else {
				in("d.who_ref", ids)
			}
		}
	}
	if f.ClientID != "" {
		if err := ref("d.client_ref", refClient+f.ClientID); err != nil {
			return nil, nil, false, err
		}
	}
	if f.Action != "" {
		where, args = append(where, "d.action = ?"), append(args, f.Action)
	}
	if f.Point != "" {
		if err := ref("d.point_ref", refPoint+f.Point); err != nil {
			return nil, nil, false, err
		}
	}
	return where, args, none, nil
}

// Decisions lists decisions matching f, newest first (the first page of
// DecisionPage).
func (s *Store) Decisions(ctx context.Context, f DecisionFilter) ([]Decision, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	f.Limit = min(f.Limit, 5000)
	where, args, none, err := s.decisionConditions(ctx, f)
	if err != nil || none {
		return nil, err
	}
	q, qargs, _, _ := decisionList.build(Page{Limit: f.Limit}, nil, where, args)
	qargs[len(qargs)-1] = f.Limit
	rows, err := s.decisionRows(ctx, q, qargs)
	if err != nil {
		return nil, err
	}
	return s.resolveDecisions(ctx, rows)
}

func (s *Store) decisionRows(ctx context.Context, q string, args []any) ([]decisionRow, error) {
	rows, err := s.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: decisions: %w", err)
	}
	defer rows.Close()
	var out []decisionRow
	ks := &keyedScanner{rows: rows}
	for rows.Next() {
		r, err := scanDecisionRow(ks)
		if err != nil {
			return nil, fmt.Errorf("store: decisions: %w", err)
		}
		r.key, _ = ks.key.(int64)
		out = append(out, r)
	}
	return out, rows.Err()
}

// DecisionPage is one page of the decisions matching f (whose Limit is
// ignored: p.Limit counts), newest first.
func (s *Store) DecisionPage(ctx context.Context, f DecisionFilter, p Page) ([]Decision, PageInfo, error) {
	where, args, none, err := s.decisionConditions(ctx, f)
	if err != nil || none {
		return nil, PageInfo{}, err
	}
	rows, info, err := listPage(ctx, s, decisionList, p, nil, where, args, func(r interface{ Scan(...any) error }) (decisionRow, error) {
		row, err := scanDecisionRow(r)
		if ks, ok := r.(*keyedScanner); ok {
			row.key, _ = ks.key.(int64)
		}
		return row, err
	})
	if err != nil {
		return nil, info, err
	}
	ds, err := s.resolveDecisions(ctx, rows)
	return ds, info, err
}

// Decision returns one decision by its ID (the reference a Deny page
// shows). With orgID set, another organization's decision is ErrNotFound;
// orgID "" looks across organizations (platform admins).
func (s *Store) Decision(ctx context.Context, orgID, id string) (Decision, error) {
	key, ok := parseDecisionID(id)
	if !ok {
		return Decision{}, fmt.Errorf("store: decision: %w", ErrNotFound)
	}
	r, err := scanDecisionRow(s.q.QueryRowContext(ctx, `SELECT `+decisionColumns+` FROM decisions d WHERE d.id = ?`, key))
	if err != nil {
		return Decision{}, notFound("store: decision", err)
	}
	r.key = key
	ds, err := s.resolveDecisions(ctx, []decisionRow{r})
	if err != nil {
		return Decision{}, fmt.Errorf("store: decision: %w", err)
	}
	if orgID != "" && ds[0].OrgID != orgID {
		return Decision{}, fmt.Errorf("store: decision: %w", ErrNotFound)
	}
	return ds[0], nil
}

// DeleteDecisionsBefore deletes at most batch decisions made before t, the
// oldest first, and returns how many it deleted: housekeeping calls it
// until it returns less than batch, so no single transaction holds the
// writer for long.
func (s *Store) DeleteDecisionsBefore(ctx context.Context, t time.Time, batch int) (int64, error) {
	res, err := s.q.ExecContext(ctx, `DELETE FROM decisions WHERE id IN
		(SELECT id FROM decisions WHERE id < ? ORDER BY id LIMIT ?)`, decisionTimeKey(t), batch)
	if err != nil {
		return 0, fmt.Errorf("store: delete decisions: %w", err)
	}
	return res.RowsAffected()
}

// CountDecisions is how many decisions the log holds (the soak test watches
// it grow).
func (s *Store) CountDecisions(ctx context.Context) (int64, error) {
	var n int64
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM decisions`).Scan(&n)
	return n, err
}
