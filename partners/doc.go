// Package partners is the partner lifecycle: organizations, their plans,
// domains and partnership windows (suspension and ending revoke refresh
// tokens in the same change), members and their roles, invitations by
// single-use expiring link, and the organization's groups (groups are
// membership, decided by the same Manager rules as roles, so they live here
// rather than in a package of their own). It is the one place these
// changes are validated and audited, so the portal pages and the
// `portico org|plan|member|group …` commands are two thin front doors onto
// the same rules. It has its own folder because neither the authorization
// server nor the policy engine owns organizations, yet both depend on them.
package partners
