package handlers_test

import "net/url"

// othersMatrix holds the rows for pages other features own (sign-in, MFA,
// identity connections, policies, the decision log). Their parameters point
// at IDs that do not exist, so these rows prove the role gate in front of
// each route; each owner is welcome to point its rows at real acme objects
// (as matrix does for members, invitations and apps) so the rows prove
// cross-organization 404s too.
func othersMatrix() map[string]routeCase {
	none := url.Values{}
	return map[string]routeCase{
		"GET /account/mfa":                             {path: "/account/mfa", want: want(see, ok, ok, ok, ok, ok)},
		"GET /admin/policies":                          {path: "/admin/policies", want: want(see, forb, forb, forb, forb, ok)},
		"GET /admin/policies/:id":                      {path: "/admin/policies/nope", want: want(see, forb, forb, forb, forb, nf)},
		"GET /admin/policies/:id/diff":                 {path: "/admin/policies/nope/diff", want: want(see, forb, forb, forb, forb, nf)},
		"GET /admin/policies/:id/export":               {path: "/admin/policies/nope/export", want: want(see, forb, forb, forb, forb, nf)},
		"GET /admin/policies/:id/versions":             {path: "/admin/policies/nope/versions", want: want(see, forb, forb, forb, forb, nf)},
		"GET /admin/policies/:id/replay":               {path: "/admin/policies/nope/replay?version=1", want: want(see, forb, forb, forb, forb, nf)},
		"GET /admin/policies/:id/shadow":               {path: "/admin/policies/nope/shadow", want: want(see, forb, forb, forb, forb, nf)},
		"GET /admin/policies/replay-jobs/:job":         {path: "/admin/policies/replay-jobs/nope", want: want(see, forb, forb, forb, forb, ok)},
		"GET /admin/policies/import":                   {path: "/admin/policies/import", want: want(see, forb, forb, forb, forb, ok)},
		"GET /admin/policies/new":                      {path: "/admin/policies/new", want: want(see, forb, forb, forb, forb, ok)},
		"GET /connections":                             {path: "/connections", want: want(see, forb, forb, ok, ok, ok)},
		"GET /connections/:id":                         {path: "/connections/nope", want: want(see, forb, forb, nf, nf, nf)},
		"GET /connections/new":                         {path: "/connections/new", want: want(see, forb, forb, nf, nf, nf)},
		"GET /decisions":                               {path: "/decisions", want: want(see, forb, forb, ok, ok, ok)},
		"GET /decisions/:id":                           {path: "/decisions/nope", want: want(see, forb, forb, nf, nf, nf)},
		"GET /decisions/export.csv":                    {path: "/decisions/export.csv", want: want(see, forb, forb, ok, ok, ok)},
		"GET /launch/:client_id":                       {path: "/launch/nope", want: want(see, nf, nf, nf, nf, nf)},
		"GET /launch/:client_id/verify":                {path: "/launch/nope/verify", want: want(see, nf, nf, nf, nf, nf)},
		"POST /launch/:client_id/verify":               {path: "/launch/nope/verify", form: none, want: want(unau, nf, nf, nf, nf, nf)},
		"GET /login/callback":                          {path: "/login/callback", want: want(bad, bad, bad, bad, bad, bad)},
		"GET /login/mfa":                               {path: "/login/mfa", want: want(bad, bad, bad, bad, bad, bad)},
		"GET /login/reset":                             {path: "/login/reset", want: want(bad, bad, bad, bad, bad, bad)},
		"GET /login/forgot":                            {path: "/login/forgot", want: same(ok)},
		"GET /account/password":                        {path: "/account/password", want: want(see, ok, ok, ok, ok, ok)},
		"GET /login/saml/metadata/:id":                 {path: "/login/saml/metadata/nope", want: want(nf, nf, nf, nf, nf, nf)},
		"GET /logout/confirm":                          {path: "/logout/confirm?next=%2Faccount", want: want(see, ok, ok, ok, ok, ok)},
		"GET /platform/connection-types/:org":          {path: "/platform/connection-types/nope", want: want(see, forb, forb, forb, forb, nf)},
		"POST /account/mfa/confirm":                    {path: "/account/mfa/confirm", form: none, want: want(unau, unpr, unpr, unpr, unpr, unpr)},
		"POST /account/mfa/disable":                    {path: "/account/mfa/disable", form: none, want: want(unau, nf, nf, nf, nf, nf)},
		"POST /account/mfa/recovery":                   {path: "/account/mfa/recovery", form: none, want: want(unau, see, see, see, see, see)},
		"POST /account/password":                       {path: "/account/password", form: none, want: want(unau, unpr, unpr, unpr, unpr, unpr)},
		"POST /admin/policies/:id":                     {path: "/admin/policies/nope", form: none, want: want(unau, forb, forb, forb, forb, nf)},
		"POST /admin/policies/:id/attach":              {path: "/admin/policies/nope/attach", form: none, want: want(unau, forb, forb, forb, forb, unpr)},
		"POST /admin/policies/:id/detach":              {path: "/admin/policies/nope/detach", form: none, want: want(unau, forb, forb, forb, forb, unpr)},
		"POST /admin/policies/:id/promote":             {path: "/admin/policies/nope/promote", form: none, want: want(unau, forb, forb, forb, forb, unpr)},
		"POST /admin/policies/:id/shadow":              {path: "/admin/policies/nope/shadow", form: none, want: want(unau, forb, forb, forb, forb, unpr)},
		"POST /admin/policies/:id/shadow/detach":       {path: "/admin/policies/nope/shadow/detach", form: none, want: want(unau, forb, forb, forb, forb, nf)},
		"POST /admin/policies/:id/versions/:n/restore": {path: "/admin/policies/nope/versions/nope/restore", form: none, want: want(unau, forb, forb, forb, forb, nf)},
		"POST /admin/policies/import":                  {path: "/admin/policies/import", form: none, want: want(unau, forb, forb, forb, forb, unpr)},
		"POST /admin/policies/new":                     {path: "/admin/policies/new", form: none, want: want(unau, forb, forb, forb, forb, ok)},
		"POST /connections":                            {path: "/connections", form: none, want: want(unau, forb, forb, unpr, unpr, unpr)},
		"POST /connections/:id":                        {path: "/connections/nope", form: none, want: want(unau, forb, forb, nf, nf, nf)},
		"POST /connections/:id/test":                   {path: "/connections/nope/test", form: none, want: want(unau, forb, forb, nf, nf, nf)},
		"POST /connections/:id/delete":                 {path: "/connections/nope/delete", form: none, want: want(unau, forb, forb, nf, nf, nf)},
		"POST /login/mfa":                              {path: "/login/mfa", form: none, want: want(bad, bad, bad, bad, bad, bad)},
		// Passkeys: the matrix's issuer is 127.0.0.1, which cannot be a
		// WebAuthn relying party, so every ceremony answers "not available"
		// (404) once the persona may reach it at all.
		"GET /account/passkeys":                       {path: "/account/passkeys", want: want(see, ok, ok, ok, ok, ok)},
		"POST /account/passkeys/begin":                {path: "/account/passkeys/begin", form: none, want: want(unau, nf, nf, nf, nf, nf)},
		"POST /account/passkeys":                      {path: "/account/passkeys", form: none, want: want(unau, nf, nf, nf, nf, nf)},
		"POST /account/passkeys/:id/delete":           {path: "/account/passkeys/nope/delete", form: none, want: want(unau, nf, nf, nf, nf, nf)},
		"POST /launch/:client_id/passkey/begin":       {path: "/launch/nope/passkey/begin", form: none, want: want(unau, nf, nf, nf, nf, nf)},
		"POST /launch/:client_id/passkey":             {path: "/launch/nope/passkey", form: none, want: want(unau, nf, nf, nf, nf, nf)},
		"POST /login/mfa/passkey/begin":               {path: "/login/mfa/passkey/begin", form: none, want: same(nf)},
		"POST /login/mfa/passkey":                     {path: "/login/mfa/passkey", form: none, want: same(bad)},
		"POST /login/passkey/begin":                   {path: "/login/passkey/begin", form: none, want: same(nf)},
		"POST /login/passkey":                         {path: "/login/passkey", form: none, want: same(nf)},
		"POST /login/reset":                           {path: "/login/reset", form: none, want: want(bad, bad, bad, bad, bad, bad)},
		"POST /login/forgot":                          {path: "/login/forgot", form: none, want: same(unav)},
		"POST /login/saml/acs":                        {path: "/login/saml/acs", form: none, want: want(bad, bad, bad, bad, bad, bad)},
		"POST /login/start":                           {path: "/login/start", form: none, want: want(nf, nf, nf, nf, nf, nf)},
		"POST /logout/confirm":                        {path: "/logout/confirm", form: none, want: same(see)},
		"POST /platform/connection-types/:org":        {path: "/platform/connection-types/nope", form: none, want: want(unau, forb, forb, forb, forb, nf)},
		"GET /org/security":                           {path: "/org/security", want: want(see, forb, forb, ok, ok, ok)},
		"POST /org/security":                          {path: "/org/security", form: none, want: want(unau, forb, forb, see, see, see)},
		"POST /org/users/:id/reset-link":              {path: "/org/users/nope/reset-link", form: none, want: want(unau, forb, forb, nf, nf, nf)},
		"POST /admin/orgs/:slug/users/:id/reset-link": {path: "/admin/orgs/acme/users/nope/reset-link", form: none, want: want(unau, forb, forb, forb, forb, nf)},
	}
}
