package handlers_test

import "net/url"

// issuersMatrix holds the trusted-issuers page's rows. Org admins manage
// their own organization's issuers and platform admins any (?org=); the
// delete row points at acme's real issuer, so another organization's admin
// gets 404, acme's admin removes it, and the platform admin (acting on
// staff, its own organization, without ?org=) finds nothing.
func issuersMatrix(fx fixtures) map[string]routeCase {
	return map[string]routeCase{
		"GET /issuers": {path: "/issuers", want: want(see, forb, forb, ok, ok, ok)},
		"POST /issuers": {path: "/issuers", form: url.Values{"issuer": {"https://idp.matrix.example"}, "algorithms": {"ES256"}},
			want: want(unau, forb, forb, see, see, see)},
		"POST /issuers/test": {path: "/issuers/test", form: url.Values{"token": {"not.a.token"}},
			want: want(unau, forb, forb, ok, ok, ok)},
		"POST /issuers/:id/delete": {path: "/issuers/" + fx.issuerID + "/delete", form: url.Values{},
			want: want(unau, forb, forb, see, nf, nf)},
	}
}
