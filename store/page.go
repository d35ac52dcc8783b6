package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Every list that grows with customers is read one page at a time by
// keyset: the page after a cursor is "the next Limit rows whose (sort key,
// id) is past the cursor's", which an index answers directly however deep
// the page is, where OFFSET would read and throw away every earlier row.

// Page asks for one page of a list. After and Before are cursors from a
// previous PageInfo (at most one of them); Q narrows the list to rows whose
// searchable columns start with it.
type Page struct {
	Limit  int
	After  string
	Before string
	Q      string
}

// PageInfo says where the neighbouring pages start: Next is the After of
// the following page and Prev the Before of the previous one, each "" when
// there is no such page.
type PageInfo struct {
	Next string
	Prev string
}

// DefaultPageSize and MaxPageSize bound Page.Limit.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// ErrBadCursor is a cursor this store did not make (or a mangled one).
var ErrBadCursor = errors.New("store: bad page cursor")

func (p Page) limit() int {
	switch {
	case p.Limit <= 0:
		return DefaultPageSize
	case p.Limit > MaxPageSize:
		return MaxPageSize
	}
	return p.Limit
}

// encodeCursor makes the opaque cursor of a row from its sort key and id.
func encodeCursor(key any, id string) string {
	b, _ := json.Marshal([]any{key, id})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor back; an int key comes back as int64 and a
// text key as string, the types the query binds.
func decodeCursor(c string) (key any, id string, err error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, "", ErrBadCursor
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v []any
	if err := d.Decode(&v); err != nil || len(v) != 2 {
		return nil, "", ErrBadCursor
	}
	id, ok := v[1].(string)
	if !ok {
		return nil, "", ErrBadCursor
	}
	switch k := v[0].(type) {
	case string:
		return k, id, nil
	case json.Number:
		n, err := k.Int64()
		if err != nil {
			return nil, "", ErrBadCursor
		}
		return n, id, nil
	}
	return nil, "", ErrBadCursor
}

// prefixRange returns the bounds [lo, hi) of the strings that start with p
// under byte-wise (BINARY / "C") ordering. U+10FFFF is the largest code
// point, so hi is still valid UTF-8 (PostgreSQL rejects anything else).
func prefixRange(p string) (lo, hi string) { return p, p + "\U0010FFFF" }

// listQuery is one paginated list: the SQL pieces keyset pagination is
// built from. Queries are assembled only from these constant pieces; every
// value is a bound argument.
type listQuery struct {
	name    string
	from    string   // FROM … (with joins)
	columns string   // what the scan function reads
	key     string   // the sort key expression
	id      string   // the unique tie-breaker
	desc    bool     // newest first
	scope   []string // conditions with one ? each, always applied (org_id = ?)
	search  []string // expressions Page.Q is a prefix of (any of them)
	// lowerQ folds Q to lower case first (the searched expressions are lower()).
	lowerQ bool
	// exact matches Q whole rather than as a prefix: for a list in time
	// order, where a prefix matching many values would have to be sorted.
	exact bool
	// textKey: key is text, compared byte-wise (see collated).
	textKey bool
}

// collated returns l with its text sort key and searched expressions
// compared under COLLATE "C", for PostgreSQL: keyset cursors and prefix
// ranges assume byte-wise order (SQLite's BINARY), which a database created
// with another LC_COLLATE does not give, and the PostgreSQL indexes of
// migration 00640 are declared COLLATE "C", so only these expressions match
// them.
func (l listQuery) collated() listQuery {
	if l.textKey {
		l.key += ` COLLATE "C"`
	}
	search := make([]string, len(l.search))
	for i, e := range l.search {
		search[i] = e + ` COLLATE "C"`
	}
	l.search = search
	return l
}

// build returns the SQL and arguments of one page. filters are extra
// conditions (each with its own args) a caller adds, such as decision
// filters.
func (l listQuery) build(p Page, scopeArgs []any, filters []string, filterArgs []any) (string, []any, bool, error) {
	var where []string
	var args []any
	where = append(where, l.scope...)
	args = append(args, scopeArgs...)
	where = append(where, filters...)
	args = append(args, filterArgs...)
	if q := strings.TrimSpace(p.Q); q != "" && len(l.search) > 0 {
		if l.lowerQ {
			q = strings.ToLower(q)
		}
		lo, hi := prefixRange(q)
		var ors []string
		for _, e := range l.search {
			if l.exact {
				ors = append(ors, e+" = ?")
				args = append(args, q)
				continue
			}
			ors = append(ors, "("+e+" >= ? AND "+e+" < ?)")
			args = append(args, lo, hi)
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	// forward walks in the list's own order; a Before cursor walks back.
	backward := p.Before != "" && p.After == ""
	cursor := p.After
	if backward {
		cursor = p.Before
	}
	if cursor != "" {
		key, id, err := decodeCursor(cursor)
		if err != nil {
			return "", nil, false, err
		}
		// (key, id) past the cursor in the direction walked, written so
		// that the first term alone bounds the index range on any engine.
		cmp := ">"
		if l.desc != backward {
			cmp = "<"
		}
		where = append(where, l.key+" "+cmp+"= ? AND ("+l.key+" "+cmp+" ? OR "+l.id+" "+cmp+" ?)")
		args = append(args, key, key, id)
	}
	dir := "ASC"
	if l.desc != backward {
		dir = "DESC"
	}
	q := "SELECT " + l.columns + ", " + l.key + ", " + l.id + " FROM " + l.from
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	order := l.key + " " + dir
	if l.id != l.key { // a unique key needs no tie-breaker (and SQLite would sort for a repeated term)
		order += ", " + l.id + " " + dir
	}
	q += " ORDER BY " + order + " LIMIT ?"
	args = append(args, p.limit()+1)
	return q, args, backward, nil
}

// keyedScanner scans a row's own columns with the caller's scan function
// and the trailing sort key and id into its own fields.
type keyedScanner struct {
	rows *sql.Rows
	key  any
	id   string
}

func (k *keyedScanner) Scan(dest ...any) error {
	return k.rows.Scan(append(dest, &k.key, &k.id)...)
}

// listPage runs one page of l and returns its rows in list order with the
// neighbouring pages' cursors.
func listPage[T any](ctx context.Context, s *Store, l listQuery, p Page, scopeArgs []any, filters []string,
	filterArgs []any, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, PageInfo, error) {
	var info PageInfo
	if s.e.pg {
		l = l.collated()
	}
	q, args, backward, err := l.build(p, scopeArgs, filters, filterArgs)
	if err != nil {
		return nil, info, err
	}
	rows, err := s.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, info, fmt.Errorf("store: %s: %w", l.name, err)
	}
	defer rows.Close()
	type keyed struct {
		key any
		id  string
	}
	var out []T
	var keys []keyed
	ks := &keyedScanner{rows: rows}
	for rows.Next() {
		v, err := scan(ks)
		if err != nil {
			return nil, info, fmt.Errorf("store: %s: %w", l.name, err)
		}
		if b, ok := ks.key.([]byte); ok {
			ks.key = string(b)
		}
		out = append(out, v)
		keys = append(keys, keyed{ks.key, ks.id})
	}
	if err := rows.Err(); err != nil {
		return nil, info, fmt.Errorf("store: %s: %w", l.name, err)
	}
	limit := p.limit()
	more := len(out) > limit
	if more {
		out, keys = out[:limit], keys[:limit]
	}
	if backward {
		slices.Reverse(out)
		slices.Reverse(keys)
	}
	if len(out) == 0 {
		if backward {
			// Nothing before the cursor: the first page follows.
			info.Next = ""
		}
		return out, info, nil
	}
	first, last := keys[0], keys[len(keys)-1]
	if backward {
		info.Next = encodeCursor(last.key, last.id)
		if more {
			info.Prev = encodeCursor(first.key, first.id)
		}
	} else {
		if more {
			info.Next = encodeCursor(last.key, last.id)
		}
		if p.After != "" {
			info.Prev = encodeCursor(first.key, first.id)
		}
	}
	return out, info, nil
}
