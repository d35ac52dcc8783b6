package adminapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"portico/partners"
	"portico/store"
)

// IdempotencyTTL is how long the first answer to an Idempotency-Key is
// kept and replayed.
const IdempotencyTTL = 24 * time.Hour

// idempotent runs a create under the request's Idempotency-Key: the first
// request with a key runs and its answer is stored; a repeat with the same
// body gets that answer again (with Idempotent-Replayed: true), one with a
// different body 422, one while the first is still running 409. An answer
// that showed a secret is not stored: its repeat gets 409 with the
// Location of what the first request made, and creates nothing.
func (a *API) idempotent(c *call, r route) error {
	key := c.Request().Header.Get("Idempotency-Key")
	if len(key) > 255 {
		return problem{Status: http.StatusBadRequest, Detail: "The Idempotency-Key is longer than 255 characters."}
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return problem{Status: http.StatusBadRequest, Detail: "The request body could not be read."}
	}
	c.Request().Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.Sum256(append([]byte(c.Request().Method+" "+c.Request().URL.Path+"\n"), body...))
	req := store.IdempotentResponse{Method: c.Request().Method, Path: c.Request().URL.Path, BodyHash: hex.EncodeToString(sum[:])}
	ctx := c.ctx()
	claimed, prev, err := a.cfg.Store.ReserveIdempotencyKey(ctx, c.p.Token.ID, key, req, a.cfg.Now().Add(IdempotencyTTL))
	if err != nil {
		return err
	}
	if !claimed {
		switch {
		case prev.BodyHash != req.BodyHash:
			return problem{Status: http.StatusUnprocessableEntity,
				Detail: "This Idempotency-Key was used with a different request; use a new key."}
		case prev.Status == 0:
			return problem{Status: http.StatusConflict, Detail: "A request with this Idempotency-Key is still in progress."}
		}
		h := c.Response().Header()
		h.Set("Idempotent-Replayed", "true")
		if prev.Location != "" {
			h.Set("Location", prev.Location)
		}
		if r.Secret && prev.Status < 300 {
			// The first answer showed a secret once; it was not kept.
			return problem{Status: http.StatusConflict, Detail: "The request with this Idempotency-Key succeeded; its answer held a secret that is shown only once. The resource is at Location."}
		}
		ct := "application/json"
		if prev.Status >= 400 {
			ct = "application/problem+json"
		}
		return c.Blob(prev.Status, ct, prev.Body)
	}
	rec := &recorder{ResponseWriter: c.Response().Writer}
	c.Response().Writer = rec
	herr := r.H(c)
	if herr != nil {
		herr = a.answer(c, herr)
	}
	status := c.Response().Status
	if status >= 500 || herr != nil {
		if err := a.cfg.Store.ReleaseIdempotencyKey(ctx, c.p.Token.ID, key); err != nil {
			a.cfg.Log.Warn("admin api: release idempotency key", "err", err)
		}
		return herr
	}
	answer := rec.body.Bytes()
	if r.Secret && status < 300 {
		answer = nil
	}
	if err := a.cfg.Store.CompleteIdempotencyKey(ctx, c.p.Token.ID, key, status,
		c.Response().Header().Get("Location"), answer); err != nil {
		a.cfg.Log.Warn("admin api: store idempotency key", "err", err)
	}
	return nil
}

// recorder keeps a copy of what a handler writes.
type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// etagOf is a strong validator of v's JSON form: it changes whenever any
// field a client sees changes.
func etagOf(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// withETag answers v with its ETag.
func (c *call) withETag(v any) error {
	c.Response().Header().Set("ETag", etagOf(v))
	return c.json(http.StatusOK, v)
}

// ifMatch refuses an update whose If-Match names another version of the
// resource than current (412). Without If-Match the update goes ahead: the
// header is the client's choice of optimistic locking.
func (c *call) ifMatch(current any) error {
	want := c.Request().Header.Get("If-Match")
	if want == "" || want == "*" {
		return nil
	}
	if want != etagOf(current) {
		return problem{Status: http.StatusPreconditionFailed,
			Detail: "The resource changed since you read it (If-Match does not match its ETag); read it again."}
	}
	return nil
}

// exclusive runs fn with an API whose store and partners service are bound
// to one transaction, so that an If-Match check and the update it guards
// see the same row: on SQLite the transaction holds the only writer, on
// PostgreSQL the getters read FOR UPDATE. Only the store and the partners
// service are bound; fn must not use the registrar, whose own store is not.
func (a *API) exclusive(c *call, fn func(tx *API) error) error {
	return a.cfg.Store.InTx(c.ctx(), func(tx *store.Store) error {
		b := *a
		b.cfg.Store = tx
		b.cfg.Registrar, b.cfg.Federation = nil, nil
		b.partners = &partners.Service{Store: tx, Now: a.cfg.Now}
		return fn(&b)
	})
}

// pageQuery is the documented pagination and filter parameters.
var pageQuery = []queryParam{
	{"limit", "items per page (1-500, default 50)"},
	{"after", "cursor: the page after this (next of the previous answer)"},
	{"before", "cursor: the page before this (prev of the previous answer)"},
	{"q", "filter: a prefix of the list's searchable fields"},
}

// page reads the pagination parameters.
func (c *call) page() (store.Page, error) {
	p := store.Page{After: c.QueryParam("after"), Before: c.QueryParam("before"), Q: c.QueryParam("q")}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxPageSize {
			return p, problem{Status: http.StatusBadRequest, Detail: "limit must be a number from 1 to 500."}
		}
		p.Limit = n
	}
	if p.After != "" && p.Before != "" {
		return p, problem{Status: http.StatusBadRequest, Detail: "Give at most one of after and before."}
	}
	return p, nil
}

// Page is one page of a list: the items and the cursors of the
// neighbouring pages ("" when there is none).
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
	Prev  string `json:"prev,omitempty"`
}

// list answers one page, with Link headers (RFC 8288) to its neighbours.
func list[T any](c *call, items []T, info store.PageInfo) error {
	if items == nil {
		items = []T{}
	}
	link := func(param, cursor, rel string) string {
		q := c.QueryParams()
		q2 := url.Values{}
		for k, v := range q {
			if k != "after" && k != "before" {
				q2[k] = v
			}
		}
		q2.Set(param, cursor)
		return "<" + c.Request().URL.Path + "?" + q2.Encode() + `>; rel="` + rel + `"`
	}
	if info.Next != "" {
		c.Response().Header().Add("Link", link("after", info.Next, "next"))
	}
	if info.Prev != "" {
		c.Response().Header().Add("Link", link("before", info.Prev, "prev"))
	}
	return c.json(http.StatusOK, Page[T]{Items: items, Next: info.Next, Prev: info.Prev})
}
