// Package partners is the partner lifecycle: organizations, their plans,
// domains and partnership windows, and later their members and invitations.
// It is the one place these changes are validated and audited, so the portal
// pages and the `portico org …` commands are two thin front doors onto the
// same rules. It has its own folder because neither the authorization server
// nor the policy engine owns organizations, yet both depend on them.
package partners
