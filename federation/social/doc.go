// Package social connects social and SaaS identity providers — GitHub
// (and GitHub Enterprise), Google, Microsoft Entra ID, GitLab (and
// self-hosted GitLab), Okta and Auth0 — through markbates/goth.
//
// goth was chosen because it already knows each provider's endpoints,
// scopes and profile quirks (GitHub's separate emails call, Entra's
// tenants). It is used without its process-wide parts: never
// goth.UseProviders nor gothic's global session store. Each connection
// builds its own goth.Provider from the stored row; the goth session is
// marshalled into the portal's own short-lived, sealed pending sign-in and
// unmarshalled at the callback. The state is Portico's, checked by the
// portal against that pending sign-in.
package social
