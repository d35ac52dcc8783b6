package adminapi

import (
	"net/http"
	"reflect"
	"sort"
	"strings"
	"time"
)

// OpenAPI returns the OpenAPI 3.1 document of the API, generated from the
// route table: every route is in it, and nothing else.
func (a *API) OpenAPI() map[string]any {
	schemas := map[string]any{}
	sg := &schemaGen{defs: schemas}
	paths := map[string]map[string]any{}
	for _, r := range a.routes {
		p := openAPIPath(r.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		op := map[string]any{"operationId": r.Op, "summary": r.Summary, "tags": []string{r.Tag}}
		var params []any
		for _, name := range pathParams(r.Path) {
			params = append(params, map[string]any{"name": name, "in": "path", "required": true,
				"schema": map[string]any{"type": "string"}, "description": paramDescription(name)})
		}
		for _, q := range r.Query {
			params = append(params, map[string]any{"name": q.Name, "in": "query", "required": false,
				"schema": map[string]any{"type": "string"}, "description": q.Description})
		}
		if r.Create {
			params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header", "required": false,
				"schema":      map[string]any{"type": "string", "maxLength": 255},
				"description": "repeat a create safely: the same key and body replay the first answer for 24 hours"})
		}
		if r.Update {
			params = append(params, map[string]any{"name": "If-Match", "in": "header", "required": false,
				"schema": map[string]any{"type": "string"}, "description": "the ETag read; a different one answers 412"})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if r.In != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": sg.schema(r.In)}}}
		}
		responses := map[string]any{"default": map[string]any{"description": "an error (RFC 9457 problem details)",
			"content": map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}}
		status := "200"
		if r.Create {
			status = "201"
		}
		switch {
		case r.Out == nil:
			responses["204"] = map[string]any{"description": "done"}
		case r.List:
			responses[status] = jsonResponse("one page", map[string]any{"type": "object", "required": []string{"items"},
				"properties": map[string]any{"items": map[string]any{"type": "array", "items": sg.schema(r.Out)},
					"next": map[string]any{"type": "string"}, "prev": map[string]any{"type": "string"}}})
		default:
			responses[status] = jsonResponse("the resource", sg.schema(r.Out))
		}
		op["responses"] = responses
		if r.Access == public {
			op["security"] = []any{}
		}
		paths[p][strings.ToLower(r.Method)] = op
	}
	schemas["Problem"] = map[string]any{"type": "object", "properties": map[string]any{
		"type": map[string]any{"type": "string"}, "title": map[string]any{"type": "string"},
		"status": map[string]any{"type": "integer"}, "detail": map[string]any{"type": "string"},
		"instance": map[string]any{"type": "string"}, "request_id": map[string]any{"type": "string"},
		"errors": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}}}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Portico admin API", "version": "1",
			"description": "Everything the portico command line does, over HTTP. See docs/API.md."},
		"servers": []any{map[string]any{"url": strings.TrimRight(a.cfg.Issuer, "/") + Prefix}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"apiToken": map[string]any{"type": "http", "scheme": "bearer",
					"description": "an API token (ptc_…) made in the portal or with `portico token create`"},
				"clientCredentials": map[string]any{"type": "oauth2", "flows": map[string]any{
					"clientCredentials": map[string]any{"tokenUrl": strings.TrimRight(a.cfg.Issuer, "/") + "/token",
						"scopes": map[string]any{AdminScope: "the admin API (the client also needs a grant)"}}}},
			},
		},
		"security": []any{map[string]any{"apiToken": []string{}}, map[string]any{"clientCredentials": []string{AdminScope}}},
	}
}

func jsonResponse(desc string, schema any) map[string]any {
	return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}
}

// openAPIPath turns an echo path (/orgs/:org) into a template (/orgs/{org}).
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

func pathParams(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if strings.HasPrefix(s, ":") {
			out = append(out, s[1:])
		}
	}
	return out
}

func paramDescription(name string) string {
	switch name {
	case "org":
		return "the organization's slug or ID"
	case "plan":
		return "the plan's slug"
	}
	return "the " + strings.ReplaceAll(name, "_", " ")
}

// schemaGen writes JSON Schemas of Go types, named struct types once under
// components/schemas.
type schemaGen struct {
	defs map[string]any
}

var timeType = reflect.TypeFor[time.Time]()

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	if t.Kind() == reflect.Pointer {
		return g.schema(t.Elem())
	}
	if t == timeType {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{} // json.RawMessage: any JSON
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := schemaName(t)
		if _, ok := g.defs[name]; !ok {
			g.defs[name] = map[string]any{} // a placeholder stops recursion
			props := map[string]any{}
			g.fields(t, props)
			g.defs[name] = map[string]any{"type": "object", "properties": props}
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

// fields adds t's JSON fields to props, flattening embedded structs as
// encoding/json does.
func (g *schemaGen) fields(t reflect.Type, props map[string]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				g.fields(ft, props)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		props[name] = g.schema(f.Type)
	}
}

// schemaName names a type by package and type, so that two packages'
// Client types do not collide.
func schemaName(t reflect.Type) string {
	pkg := t.PkgPath()
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		pkg = pkg[i+1:]
	}
	n := t.Name()
	if i := strings.Index(n, "["); i >= 0 { // generic instances
		n = n[:i]
	}
	if pkg == "adminapi" {
		return n
	}
	return strings.ToUpper(pkg[:1]) + pkg[1:] + n
}

// serveOpenAPI answers the document.
func (a *API) serveOpenAPI(c *call) error {
	return c.json(http.StatusOK, a.OpenAPI())
}

// sortedRoutes is the table in a stable order, for tests and listings.
func sortedRoutes(rs []route) []route {
	out := append([]route(nil), rs...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}
