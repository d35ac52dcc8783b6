// Package partners is the partner lifecycle: organizations, their plans,
// domains and partnership windows (suspension and ending revoke refresh
// tokens in the same change), members and their roles, and invitations by
// single-use expiring link. It is the one place these changes are validated
// and audited, so the portal pages and the `portico org|plan|member …`
// commands are two thin front doors onto the same rules. It has its own
// folder because neither the authorization server nor the policy engine
// owns organizations, yet both depend on them.
package partners
