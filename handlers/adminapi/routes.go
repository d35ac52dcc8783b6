package adminapi

import (
	"encoding/json"
	"net/http"
	"reflect"

	"portico/authserver"
	"portico/partners"
	"portico/policyeditor"
	"portico/store"
)

func typ[T any]() reflect.Type { return reflect.TypeFor[T]() }

const (
	get, post, patch, put, del = http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete
)

// table is every operation of the API: the router and the OpenAPI
// document are both made from it.
func (a *API) table() []route {
	rs := []route{
		{Method: get, Path: "/openapi.json", Op: "getOpenAPI", Summary: "This API's OpenAPI 3.1 document", Tag: "meta",
			Access: public, Out: typ[map[string]any](), H: a.serveOpenAPI},

		// Credentials of this API.
		{Method: get, Path: "/tokens", Op: "listTokens", Summary: "List API tokens and client grants", Tag: "tokens",
			Access: anyRead, Out: typ[store.APIToken](), List: true,
			Query: []queryParam{{"org", "only this organization's (slug or ID)"}}, H: a.listTokens},
		{Method: post, Path: "/tokens", Op: "createToken", Summary: "Create an API token (shown once) or a client grant", Tag: "tokens",
			Access: anyWrite, In: typ[TokenBody](), Out: typ[NewTokenOut](), Create: true, Secret: true, H: a.createToken},
		{Method: del, Path: "/tokens/:id", Op: "revokeToken", Summary: "Revoke an API token or client grant", Tag: "tokens",
			Access: anyWrite, H: a.revokeToken},

		// Organizations, their partnership window and status.
		{Method: get, Path: "/orgs", Op: "listOrgs", Summary: "List organizations", Tag: "organizations",
			Access: anyRead, Out: typ[Org](), List: true, Query: pageQuery, H: a.listOrgs},
		{Method: post, Path: "/orgs", Op: "createOrg", Summary: "Create an organization", Tag: "organizations",
			Access: platformWrite, In: typ[OrgBody](), Out: typ[Org](), Create: true, H: a.createOrg},
		{Method: get, Path: "/orgs/:org", Op: "getOrg", Summary: "Show an organization", Tag: "organizations",
			Access: orgRead, Out: typ[Org](), H: a.getOrg},
		{Method: patch, Path: "/orgs/:org", Op: "updateOrg", Summary: "Change an organization: name, domains, plan, status, partnership window, sign-in rules", Tag: "organizations",
			Access: platformWrite, In: typ[OrgBody](), Out: typ[Org](), Update: true, H: a.updateOrg},
		{Method: post, Path: "/orgs/:org/suspend", Op: "suspendOrg", Summary: "Suspend an organization (its tokens stop at once)", Tag: "organizations",
			Access: platformWrite, Out: typ[Org](), H: a.setOrgStatus(true)},
		{Method: post, Path: "/orgs/:org/reactivate", Op: "reactivateOrg", Summary: "Reactivate a suspended organization", Tag: "organizations",
			Access: platformWrite, Out: typ[Org](), H: a.setOrgStatus(false)},
		{Method: put, Path: "/orgs/:org/client-metadata", Op: "setOrgClientMetadata", Summary: "Allow or deny sign-in to Client ID Metadata Document clients", Tag: "organizations",
			Access: orgWrite, In: typ[ClientMetadataBody](), Out: typ[ClientMetadataOut](), H: a.setClientMetadata},

		// Plans.
		{Method: get, Path: "/plans", Op: "listPlans", Summary: "List plans", Tag: "plans",
			Access: platformRead, Out: typ[Plan](), List: true, H: a.listPlans},
		{Method: post, Path: "/plans", Op: "createPlan", Summary: "Create a plan", Tag: "plans",
			Access: platformWrite, In: typ[PlanBody](), Out: typ[Plan](), Create: true, H: a.createPlan},
		{Method: get, Path: "/plans/:plan", Op: "getPlan", Summary: "Show a plan", Tag: "plans",
			Access: platformRead, Out: typ[Plan](), H: a.getPlan},
		{Method: patch, Path: "/plans/:plan", Op: "updatePlan", Summary: "Change a plan", Tag: "plans",
			Access: platformWrite, In: typ[PlanBody](), Out: typ[Plan](), Update: true, H: a.updatePlan},

		// Members and invitations.
		{Method: get, Path: "/orgs/:org/members", Op: "listMembers", Summary: "List an organization's members", Tag: "members",
			Access: orgRead, Out: typ[partners.Member](), List: true, Query: pageQuery, H: a.listMembers},
		{Method: get, Path: "/orgs/:org/members/:id", Op: "getMember", Summary: "Show a member", Tag: "members",
			Access: orgRead, Out: typ[partners.Member](), H: a.getMember},
		{Method: patch, Path: "/orgs/:org/members/:id", Op: "changeMemberRole", Summary: "Change a member's role", Tag: "members",
			Access: orgWrite, In: typ[RoleBody](), Out: typ[partners.Member](), Update: true, H: a.changeRole},
		{Method: del, Path: "/orgs/:org/members/:id", Op: "removeMember", Summary: "Remove a member (their sessions and tokens end)", Tag: "members",
			Access: orgWrite, H: a.removeMember},
		{Method: get, Path: "/orgs/:org/invitations", Op: "listInvitations", Summary: "List an organization's invitations", Tag: "members",
			Access: orgRead, Out: typ[Invitation](), List: true, Query: pageQuery, H: a.listInvitations},
		{Method: post, Path: "/orgs/:org/invitations", Op: "createInvitation", Summary: "Invite someone (the link is shown once)", Tag: "members",
			Access: orgWrite, In: typ[InvitationBody](), Out: typ[NewInvitationOut](), Create: true, Secret: true, H: a.createInvitation},
		{Method: del, Path: "/orgs/:org/invitations/:id", Op: "revokeInvitation", Summary: "Revoke a pending invitation", Tag: "members",
			Access: orgWrite, H: a.revokeInvitation},

		// Apps (OAuth clients) and their secrets.
		{Method: get, Path: "/orgs/:org/apps", Op: "listApps", Summary: "List an organization's apps", Tag: "apps",
			Access: orgRead, Out: typ[App](), List: true, Query: pageQuery, H: a.listApps},
		{Method: post, Path: "/orgs/:org/apps", Op: "createApp", Summary: "Register an app (a confidential app's secret is shown once)", Tag: "apps",
			Access: orgWrite, In: typ[AppBody](), Out: typ[App](), Create: true, Secret: true, H: a.createApp},
		{Method: get, Path: "/orgs/:org/apps/:client_id", Op: "getApp", Summary: "Show an app", Tag: "apps",
			Access: orgRead, Out: typ[App](), H: a.getApp},
		{Method: patch, Path: "/orgs/:org/apps/:client_id", Op: "updateApp", Summary: "Change an app's settings", Tag: "apps",
			Access: orgWrite, In: typ[AppBody](), Out: typ[App](), Update: true, H: a.updateApp},
		{Method: patch, Path: "/orgs/:org/apps/:client_id/platform-settings", Op: "updateAppPlatformSettings", Summary: "Change an app's platform-level settings (first party, token exchange, PAR, DPoP, FAPI 2.0)", Tag: "apps",
			Access: platformWrite, In: typ[AppPlatformBody](), Out: typ[App](), Update: true, H: a.updateAppPlatform},
		{Method: del, Path: "/orgs/:org/apps/:client_id", Op: "deleteApp", Summary: "Delete an app", Tag: "apps",
			Access: orgWrite, H: a.deleteApp},
		{Method: post, Path: "/orgs/:org/apps/:client_id/enable", Op: "enableApp", Summary: "Enable an app", Tag: "apps",
			Access: orgWrite, Out: typ[App](), H: a.setAppEnabled(true)},
		{Method: post, Path: "/orgs/:org/apps/:client_id/disable", Op: "disableApp", Summary: "Disable an app", Tag: "apps",
			Access: orgWrite, Out: typ[App](), H: a.setAppEnabled(false)},
		{Method: post, Path: "/orgs/:org/apps/:client_id/secrets", Op: "rotateAppSecret", Summary: "Rotate an app's secret (the new one is shown once)", Tag: "apps",
			Access: orgWrite, In: typ[RotateBody](), Out: typ[App](), Create: true, Secret: true, H: a.rotateSecret},
		{Method: del, Path: "/orgs/:org/apps/:client_id/secrets/:secret_id", Op: "revokeAppSecret", Summary: "Revoke one of an app's secrets", Tag: "apps",
			Access: orgWrite, Out: typ[App](), H: a.revokeSecret},
		{Method: get, Path: "/orgs/:org/apps/:client_id/shares", Op: "listAppShares", Summary: "List whom an app is shared with", Tag: "apps",
			Access: orgRead, Out: typ[Shares](), H: a.listShares},
		{Method: put, Path: "/orgs/:org/apps/:client_id/shares/:target", Op: "shareApp", Summary: `Share an app with every organization ("all") or a plan's ("plan:<slug>")`, Tag: "apps",
			Access: platformWrite, Out: typ[Shares](), H: a.share(true)},
		{Method: del, Path: "/orgs/:org/apps/:client_id/shares/:target", Op: "unshareApp", Summary: "Withdraw a share", Tag: "apps",
			Access: platformWrite, Out: typ[Shares](), H: a.share(false)},

		// Groups.
		{Method: get, Path: "/orgs/:org/groups", Op: "listGroups", Summary: "List an organization's groups", Tag: "groups",
			Access: orgRead, Out: typ[partners.GroupView](), List: true, H: a.listGroups},
		{Method: post, Path: "/orgs/:org/groups", Op: "createGroup", Summary: "Create a local group", Tag: "groups",
			Access: orgWrite, In: typ[GroupBody](), Out: typ[partners.GroupView](), Create: true, H: a.createGroup},
		{Method: del, Path: "/orgs/:org/groups/:id", Op: "deleteGroup", Summary: "Delete a local group", Tag: "groups",
			Access: orgWrite, H: a.deleteGroup},
		{Method: get, Path: "/orgs/:org/groups/:id/members", Op: "listGroupMembers", Summary: "List a group's members", Tag: "groups",
			Access: orgRead, Out: typ[partners.Member](), List: true, H: a.groupMembers},
		{Method: put, Path: "/orgs/:org/groups/:id/members/:user", Op: "addGroupMember", Summary: "Add a member (by ID or email) to a local group", Tag: "groups",
			Access: orgWrite, Out: typ[partners.Member](), H: a.changeGroupMember(true)},
		{Method: del, Path: "/orgs/:org/groups/:id/members/:user", Op: "removeGroupMember", Summary: "Take a member (by ID or email) out of a local group", Tag: "groups",
			Access: orgWrite, Out: typ[partners.Member](), H: a.changeGroupMember(false)},

		// Logs.
		{Method: get, Path: "/audit", Op: "listAudit", Summary: "The audit log of every organization and the platform, newest first", Tag: "logs",
			Access: platformRead, Out: typ[AuditEvent](), List: true, Query: auditQuery, H: a.platformAudit},
		{Method: get, Path: "/orgs/:org/audit", Op: "listOrgAudit", Summary: "An organization's audit log, newest first", Tag: "logs",
			Access: orgRead, Out: typ[AuditEvent](), List: true, Query: auditQuery, H: a.orgAudit},
		{Method: get, Path: "/decisions", Op: "listDecisions", Summary: "The policy decision log, newest first", Tag: "logs",
			Access: platformRead, Out: typ[store.Decision](), List: true, Query: decisionQuery, H: a.platformDecisions},
		{Method: get, Path: "/orgs/:org/decisions", Op: "listOrgDecisions", Summary: "An organization's policy decisions, newest first", Tag: "logs",
			Access: orgRead, Out: typ[store.Decision](), List: true, Query: decisionQuery, H: a.orgDecisions},

		// The authorization server: scopes, keys, registration tokens.
		{Method: get, Path: "/scopes", Op: "listScopes", Summary: "List portal-wide scopes", Tag: "oauth",
			Access: anyRead, Out: typ[store.Scope](), List: true, H: a.listScopes},
		{Method: post, Path: "/scopes", Op: "createScope", Summary: "Register a portal-wide scope", Tag: "oauth",
			Access: platformWrite, In: typ[ScopeBody](), Out: typ[store.Scope](), Create: true, H: a.createScope},
		{Method: post, Path: "/keys/rotate", Op: "rotateKeys", Summary: "Rotate the token-signing keys", Tag: "oauth",
			Access: platformWrite, Out: typ[[]SigningKey](), H: a.rotateKeys},
		{Method: post, Path: "/orgs/:org/registration-tokens", Op: "createRegistrationToken", Summary: "Make an initial access token for dynamic client registration (shown once)", Tag: "oauth",
			Access: orgWrite, In: typ[RegistrationTokenBody](), Out: typ[NewRegistrationToken](), Create: true, Secret: true, H: a.createRegistrationToken},

		// Identity-pool users and sign-in connections.
		{Method: post, Path: "/orgs/:org/users", Op: "createUser", Summary: "Create an identity-pool user (a generated password is shown once)", Tag: "users",
			Access: orgWrite, In: typ[UserBody](), Out: typ[User](), Create: true, Secret: true, H: a.createUser},
		{Method: post, Path: "/orgs/:org/users/:id/reset-link", Op: "issueResetLink", Summary: "Issue a single-use password reset link", Tag: "users",
			Access: orgWrite, In: typ[ResetLinkBody](), Out: typ[ResetLinkOut](), H: a.resetLink},
		{Method: put, Path: "/orgs/:org/users/:id/attributes/:name", Op: "setUserAttribute", Summary: "Set (or with an empty value remove) a user's attribute", Tag: "users",
			Access: orgWrite, In: typ[AttributeBody](), Out: typ[User](), H: a.setAttribute},
		{Method: get, Path: "/orgs/:org/connections", Op: "listConnections", Summary: "List an organization's sign-in connections", Tag: "connections",
			Access: orgRead, Out: typ[Connection](), List: true, H: a.listConnections},
		{Method: post, Path: "/orgs/:org/connections", Op: "createConnection", Summary: "Create a sign-in connection", Tag: "connections",
			Access: orgWrite, In: typ[ConnectionBody](), Out: typ[Connection](), Create: true, H: a.createConnection},
		{Method: patch, Path: "/orgs/:org/connections/:id", Op: "updateConnection", Summary: "Change a sign-in connection", Tag: "connections",
			Access: orgWrite, In: typ[ConnectionBody](), Out: typ[Connection](), Update: true, H: a.updateConnection},

		// Trusted issuers.
		{Method: get, Path: "/orgs/:org/issuers", Op: "listIssuers", Summary: "List an organization's trusted token issuers", Tag: "issuers",
			Access: orgRead, Out: typ[store.TrustedIssuer](), List: true, H: a.listIssuers},
		{Method: post, Path: "/orgs/:org/issuers", Op: "createIssuer", Summary: "Trust a partner's token issuer", Tag: "issuers",
			Access: orgWrite, In: typ[IssuerBody](), Out: typ[store.TrustedIssuer](), Create: true, H: a.createIssuer},
		{Method: get, Path: "/orgs/:org/issuers/:id", Op: "getIssuer", Summary: "Show a trusted issuer", Tag: "issuers",
			Access: orgRead, Out: typ[store.TrustedIssuer](), H: a.getIssuer},
		{Method: del, Path: "/orgs/:org/issuers/:id", Op: "deleteIssuer", Summary: "Stop trusting an issuer", Tag: "issuers",
			Access: orgWrite, H: a.deleteIssuer},
		{Method: post, Path: "/orgs/:org/issuers/:id/test", Op: "testIssuer", Summary: "Check a token against a trusted issuer, changing nothing", Tag: "issuers",
			Access: orgRead, In: typ[IssuerTestBody](), Out: typ[authserver.Preview](), H: a.testIssuer},

		// APIs (resource servers).
		{Method: get, Path: "/apis", Op: "listAPIs", Summary: "List APIs (a scoped credential: its organization's)", Tag: "apis",
			Access: anyRead, Out: typ[store.API](), List: true, H: a.listAPIs},
		{Method: post, Path: "/apis", Op: "createAPI", Summary: "Register an API and its scopes", Tag: "apis",
			Access: anyWrite, In: typ[APIBody](), Out: typ[store.API](), Create: true, H: a.createAPI},
		{Method: get, Path: "/apis/:id", Op: "getAPI", Summary: "Show an API", Tag: "apis",
			Access: anyRead, Out: typ[store.API](), H: a.getAPI},
		{Method: patch, Path: "/apis/:id", Op: "updateAPI", Summary: "Change an API", Tag: "apis",
			Access: anyWrite, In: typ[APIBody](), Out: typ[store.API](), Update: true, H: a.updateAPI},
		{Method: del, Path: "/apis/:id", Op: "deleteAPI", Summary: "Delete an API", Tag: "apis",
			Access: anyWrite, H: a.deleteAPI},

		// Policies.
		{Method: get, Path: "/policies", Op: "listPolicies", Summary: "List policies and where each is attached", Tag: "policies",
			Access: platformRead, Out: typ[Policy](), List: true, H: a.listPolicies},
		{Method: post, Path: "/policies", Op: "importPolicy", Summary: "Import a policy document (a new policy, or a new version of the one with its name)", Tag: "policies",
			Access: platformWrite, In: typ[json.RawMessage](), Out: typ[PolicyImported](), Create: true, H: a.importPolicy},
		{Method: get, Path: "/policies/:id", Op: "exportPolicy", Summary: "Export a policy's current document (by ID or name)", Tag: "policies",
			Access: platformRead, Out: typ[json.RawMessage](), H: a.exportPolicy},
		{Method: post, Path: "/policies/eval", Op: "evalPolicy", Summary: "Evaluate a policy document against a request, saving nothing", Tag: "policies",
			Access: platformRead, In: typ[EvalBody](), Out: typ[json.RawMessage](), H: a.evalPolicy},
		{Method: put, Path: "/policy-attachments", Op: "attachPolicy", Summary: "Attach a policy to an app, the portal, m2m, registration or API routes", Tag: "policies",
			Access: platformWrite, In: typ[AttachmentBody](), Out: typ[Attachment](), H: a.attachment(true)},
		{Method: del, Path: "/policy-attachments", Op: "detachPolicy", Summary: "Remove the policy attached at a point", Tag: "policies",
			Access: platformWrite, In: typ[AttachmentBody](), Out: typ[Attachment](), H: a.attachment(false)},

		// Outgoing webhooks and inbound (billing) hooks.
		{Method: get, Path: "/webhooks", Op: "listWebhooks", Summary: "List outgoing webhook subscriptions", Tag: "webhooks",
			Access: platformRead, Out: typ[Webhook](), List: true, H: a.listWebhooks},
		{Method: post, Path: "/webhooks", Op: "createWebhook", Summary: "Subscribe a URL to events (the signing secret is shown once)", Tag: "webhooks",
			Access: platformWrite, In: typ[WebhookBody](), Out: typ[Webhook](), Create: true, Secret: true, H: a.createWebhook},
		{Method: get, Path: "/webhooks/:id", Op: "getWebhook", Summary: "Show a webhook subscription (never its secret)", Tag: "webhooks",
			Access: platformRead, Out: typ[Webhook](), H: a.getWebhook},
		{Method: patch, Path: "/webhooks/:id", Op: "updateWebhook", Summary: "Change a subscription's URL, events, description or sample (a new URL gets a new signing secret, shown once)", Tag: "webhooks",
			Access: platformWrite, In: typ[WebhookPatch](), Out: typ[Webhook](), Update: true, Secret: true, H: a.updateWebhook},
		{Method: post, Path: "/webhooks/:id/pause", Op: "pauseWebhook", Summary: "Pause a subscription (nothing is sent; queued deliveries wait)", Tag: "webhooks",
			Access: platformWrite, Out: typ[Webhook](), H: a.setWebhookEnabled(false)},
		{Method: post, Path: "/webhooks/:id/resume", Op: "resumeWebhook", Summary: "Resume a paused subscription", Tag: "webhooks",
			Access: platformWrite, Out: typ[Webhook](), H: a.setWebhookEnabled(true)},
		{Method: del, Path: "/webhooks/:id", Op: "deleteWebhook", Summary: "Delete a webhook subscription and its delivery log", Tag: "webhooks",
			Access: platformWrite, H: a.deleteWebhook},
		{Method: get, Path: "/webhook-deliveries", Op: "listWebhookDeliveries", Summary: "The delivery log, newest first", Tag: "webhooks",
			Access: platformRead, Out: typ[Delivery](), List: true, Query: deliveryQuery, H: a.listDeliveries},
		{Method: post, Path: "/webhook-deliveries/:id/redeliver", Op: "redeliverWebhook", Summary: "Queue a delivery again", Tag: "webhooks",
			Access: platformWrite, H: a.redeliver},
		{Method: get, Path: "/webhook-events", Op: "listWebhookEvents", Summary: "The event types a subscription may ask for", Tag: "webhooks",
			Access: platformRead, Out: typ[string](), List: true, H: a.webhookEvents},
		{Method: get, Path: "/hooks", Op: "listInboundHooks", Summary: "List inbound hooks (a billing system's)", Tag: "webhooks",
			Access: platformRead, Out: typ[InboundHook](), List: true, H: a.listInboundHooks},
		{Method: post, Path: "/hooks", Op: "createInboundHook", Summary: "Make an inbound hook (its signing secret is shown once)", Tag: "webhooks",
			Access: platformWrite, In: typ[InboundHookBody](), Out: typ[InboundHook](), Create: true, Secret: true, H: a.createInboundHook},
		{Method: get, Path: "/hooks/:hook", Op: "getInboundHook", Summary: "Show an inbound hook, by ID or name (never its secret)", Tag: "webhooks",
			Access: platformRead, Out: typ[InboundHook](), H: a.getInboundHook},
		{Method: del, Path: "/hooks/:hook", Op: "deleteInboundHook", Summary: "Delete an inbound hook, by ID or name", Tag: "webhooks",
			Access: platformWrite, H: a.deleteInboundHook},
		{Method: put, Path: "/orgs/:org/attributes/:name", Op: "setOrgAttribute", Summary: "Set (or with an empty value remove) an organization's attribute, which policies read", Tag: "organizations",
			Access: platformWrite, In: typ[AttributeBody](), Out: typ[Org](), H: a.setOrgAttribute},
		{Method: del, Path: "/orgs/:org/attributes/:name", Op: "removeOrgAttribute", Summary: "Remove an organization's attribute", Tag: "organizations",
			Access: platformWrite, Out: typ[Org](), H: a.removeOrgAttribute},

		// Rolling a policy out: replay, report-only, promote.
		{Method: post, Path: "/policies/:id/replay", Op: "replayPolicy", Summary: "Impact preview: what a draft or saved version would have decided over the decision log", Tag: "policies",
			Access: platformRead, In: typ[ReplayBody](), Out: typ[policyeditor.ReplayReport](), H: a.replayPolicy},
		{Method: put, Path: "/policies/:id/report-only", Op: "attachReportOnly", Summary: "Run a saved version, or a document saved as one, in report-only mode beside the enforced one", Tag: "policies",
			Access: platformWrite, In: typ[ReportOnlyBody](), Out: typ[store.Policy](), H: a.reportOnly(true)},
		{Method: del, Path: "/policies/:id/report-only", Op: "detachReportOnly", Summary: "End report-only mode", Tag: "policies",
			Access: platformWrite, Out: typ[store.Policy](), H: a.reportOnly(false)},
		{Method: post, Path: "/policies/:id/promote", Op: "promotePolicy", Summary: "Enforce the report-only version (audited; restore the old version to undo)", Tag: "policies",
			Access: platformWrite, In: typ[PromoteBody](), Out: typ[store.Policy](), H: a.promotePolicy},
	}
	return rs
}
