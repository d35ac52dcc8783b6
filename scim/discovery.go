package scim

import (
	"net/http"
)

func (s *Server) serviceProviderConfig(t tenant) map[string]any {
	return map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": s.Issuer + "/docs/SCIM.md",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": 500},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": false},
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "Bearer token", "primary": true,
			"description": "The organization's SCIM token, created on its connection page.",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": s.BaseURL(t.org.Slug) + "/ServiceProviderConfig"},
	}
}

func attr(name, typ string, required bool, mutability string, extra map[string]any) map[string]any {
	a := map[string]any{"name": name, "type": typ, "multiValued": false, "required": required, "caseExact": false,
		"mutability": mutability, "returned": "default", "uniqueness": "none"}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

func (s *Server) schemaList(t tenant) []map[string]any {
	user := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"},
		"id":      userSchema, "name": "User", "description": "An organization member",
		"attributes": []map[string]any{
			attr("userName", "string", true, "readWrite", map[string]any{"uniqueness": "server"}),
			attr("externalId", "string", false, "readWrite", map[string]any{"caseExact": true}),
			attr("displayName", "string", false, "readWrite", nil),
			attr("name", "complex", false, "readWrite", map[string]any{"subAttributes": []map[string]any{
				attr("formatted", "string", false, "readWrite", nil),
				attr("givenName", "string", false, "readWrite", nil),
				attr("familyName", "string", false, "readWrite", nil),
			}}),
			attr("emails", "complex", false, "readWrite", map[string]any{"multiValued": true, "subAttributes": []map[string]any{
				attr("value", "string", false, "readWrite", nil),
				attr("type", "string", false, "readWrite", nil),
				attr("primary", "boolean", false, "readWrite", nil),
			}}),
			attr("active", "boolean", false, "readWrite", nil),
			attr("groups", "complex", false, "readOnly", map[string]any{"multiValued": true}),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": s.BaseURL(t.org.Slug) + "/Schemas/" + userSchema},
	}
	group := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"},
		"id":      groupSchema, "name": "Group", "description": "A group of organization members",
		"attributes": []map[string]any{
			attr("displayName", "string", true, "readWrite", nil),
			attr("externalId", "string", false, "readWrite", map[string]any{"caseExact": true}),
			attr("members", "complex", false, "readWrite", map[string]any{"multiValued": true, "subAttributes": []map[string]any{
				attr("value", "string", false, "immutable", nil),
				attr("display", "string", false, "readOnly", nil),
			}}),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": s.BaseURL(t.org.Slug) + "/Schemas/" + groupSchema},
	}
	return []map[string]any{user, group}
}

func (s *Server) schemas(t tenant, id string) (int, any, *Error) {
	all := s.schemaList(t)
	if id == "" {
		return http.StatusOK, listResponse(all, 1, len(all)), nil
	}
	for _, sc := range all {
		if sc["id"] == id {
			return http.StatusOK, sc, nil
		}
	}
	return 0, nil, notFound("Schema")
}

func (s *Server) resourceTypeList(t tenant) []map[string]any {
	rt := func(name, endpoint, schema string) map[string]any {
		return map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"},
			"id":      name, "name": name, "endpoint": "/" + endpoint, "schema": schema,
			"meta": map[string]any{"resourceType": "ResourceType", "location": s.BaseURL(t.org.Slug) + "/ResourceTypes/" + name},
		}
	}
	return []map[string]any{rt("User", "Users", userSchema), rt("Group", "Groups", groupSchema)}
}

func (s *Server) resourceTypes(t tenant, id string) (int, any, *Error) {
	all := s.resourceTypeList(t)
	if id == "" {
		return http.StatusOK, listResponse(all, 1, len(all)), nil
	}
	for _, x := range all {
		if x["id"] == id {
			return http.StatusOK, x, nil
		}
	}
	return 0, nil, notFound("ResourceType")
}
