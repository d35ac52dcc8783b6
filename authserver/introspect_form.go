package authserver

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// The parameters an introspection request is read from.
const (
	formClientID = iota
	formClientSecret
	formClientAssertion
	formClientAssertionType
	formToken
	formFields
)

var formNames = [formFields]string{"client_id", "client_secret", "client_assertion", "client_assertion_type", "token"}

// introspectionForm is an introspection request's body, read as
// r.ParseForm would read it (the request has no query: ServeHTTP refused
// one) but kept to the few parameters introspection reads: their first
// value (what PostFormValue gives the throttle) and their last (what op
// took). r.ParseForm was a fifth of the endpoint's CPU, most of it the map
// of values and the copy of it into r.Form.
type introspectionForm struct {
	first, last [formFields]string
	seen        [formFields]bool
}

func (f *introspectionForm) add(key, value string) {
	for i, n := range formNames {
		if n == key {
			if !f.seen[i] {
				f.first[i], f.seen[i] = value, true
			}
			f.last[i] = value
			return
		}
	}
}

// readIntrospectionForm reads r's body into f. Its error is ParseForm's.
func readIntrospectionForm(r *http.Request, f *introspectionForm) error {
	ct := r.Header.Get("Content-Type")
	if ct != "application/x-www-form-urlencoded" { // the usual case needs no parsing
		if ct == "" {
			ct = "application/octet-stream"
		}
		var err error
		if ct, _, err = mime.ParseMediaType(ct); err != nil {
			return err
		}
		if ct != "application/x-www-form-urlencoded" {
			return nil // ParseForm reads no other body
		}
	}
	if r.Body == nil {
		return errors.New("missing form body")
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	// A body with nothing to unescape and no separator or count that
	// url.ParseQuery would refuse is split here; any other goes through
	// url.ParseQuery itself, so errors and unescaping are exactly its own.
	if len(body) > 0 && strings.IndexAny(body, "%+;") < 0 && strings.Count(body, "&") < 64 {
		for body != "" {
			var pair string
			pair, body, _ = strings.Cut(body, "&")
			if pair == "" {
				continue
			}
			key, value, _ := strings.Cut(pair, "=")
			f.add(key, value)
		}
		return nil
	}
	vs, err := url.ParseQuery(body)
	for i, n := range formNames {
		if v := vs[n]; len(v) > 0 {
			f.first[i], f.last[i], f.seen[i] = v[0], v[len(v)-1], true
		}
	}
	return err
}

// readBody reads r's body whole, as ParseForm does (at most 10 MB; the
// token endpoints' own limit is far lower), into one buffer sized by the
// Content-Length when there is one.
func readBody(r *http.Request) (string, error) {
	const maxFormSize = 10 << 20
	n := int64(512)
	if r.ContentLength > 0 && r.ContentLength < 64<<10 {
		n = r.ContentLength + 1 // room to see EOF without growing
	}
	b := make([]byte, 0, n)
	lr := io.LimitedReader{R: r.Body, N: maxFormSize + 1}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		m, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
	}
	if len(b) > maxFormSize {
		return "", errors.New("http: POST too large")
	}
	return string(b), nil
}
