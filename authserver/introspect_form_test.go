package authserver

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestIntrospectionFormReadsAsParseForm: for each body, the form reader
// fails exactly when ParseForm does, and gives each parameter's first
// value as PostFormValue and its last as r.Form's last.
func TestIntrospectionFormReadsAsParseForm(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	cases := []struct{ ct, body string }{
		{form, "token=abc"},
		{form, "token=abc&client_id=svc&client_secret=s3cr%2Bt"},
		{form, "token=a&token=b&token=c"},
		{form, "client_id=&client_id=x"},
		{form, "client_id=x&client_id="},
		{form, "token=a+b%20c"},
		{form, "token"},
		{form, "=x&&token=y&"},
		{form, ""},
		{form, "token=%zz"},
		{form, "x=%zz&client_id=a&client_secret=b&token=t"},
		{form, "token=a;b"},
		{form, "token=a&b;c=d"},
		{form, "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=h.p.s"},
		{form, strings.Repeat("a=b&", 70) + "token=z"},
		{form, strings.Repeat("&", 10001) + "token=z"},
		{form + "; charset=UTF-8", "token=abc"},
		{"APPLICATION/X-WWW-FORM-URLENCODED", "token=abc"},
		{"application/json", `{"token":"abc"}`},
		{"", "token=abc"},
		{"multipart/form-data; boundary=x", "token=abc"},
		{"text/plain; =bad", "token=abc"},
		{form, strings.Repeat("t", 70<<10)},
	}
	for _, c := range cases {
		name := c.ct + " " + c.body
		if len(name) > 60 {
			name = name[:60]
		}
		if msg := compareWithParseForm(c.ct, c.body); msg != "" {
			t.Errorf("%q: %s", name, msg)
		}
	}
}

// compareWithParseForm reads body as content type ct both ways and says
// how the form reader differs from ParseForm ("" when it does not).
func compareWithParseForm(ct, body string) string {
	newReq := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/introspect", strings.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 64<<10)
		return r
	}
	want := newReq()
	werr := want.ParseForm()
	var f introspectionForm
	ferr := readIntrospectionForm(newReq(), &f)
	if (werr == nil) != (ferr == nil) {
		return fmt.Sprintf("ParseForm error %v, form reader error %v", werr, ferr)
	}
	if werr != nil {
		return ""
	}
	for i, n := range formNames {
		first := want.PostFormValue(n)
		var last string
		if v := want.Form[n]; len(v) > 0 {
			last = v[len(v)-1]
		}
		if f.first[i] != first || f.last[i] != last {
			return fmt.Sprintf("%s: first %q last %q, want %q %q", n, f.first[i], f.last[i], first, last)
		}
	}
	return ""
}

// FuzzIntrospectionForm: whatever the body, the introspection endpoint's
// form reader fails exactly when ParseForm does and reads the same values.
func FuzzIntrospectionForm(f *testing.F) {
	for _, b := range []string{"token=abc&client_id=svc", "token=a&token=b", "token=a+b%20c", "token=a;b", "=x&&token=y&", "x=%zz"} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if msg := compareWithParseForm("application/x-www-form-urlencoded", body); msg != "" {
			t.Fatalf("%q: %s", body, msg)
		}
	})
}
