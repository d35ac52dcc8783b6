package adminapi_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"portico/handlers/adminapi"
)

// TestOpenAPIDocumentIsValid loads the generated document with kin-openapi
// (an independent implementation of OpenAPI 3.1) and validates it, so the
// document is one that tools and code generators accept, not only one our
// own test agrees with.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := adminapi.New(adminapi.Config{Issuer: "https://portal.example.com"}).OpenAPI()
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	d, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if d.OpenAPI != "3.1.0" {
		t.Fatalf("version %q", d.OpenAPI)
	}
	if err := d.Validate(context.Background()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if n := len(d.Paths.Map()); n < 40 {
		t.Fatalf("only %d paths", n)
	}
	// The control: a dangling $ref is caught, so the check above can fail.
	doc["paths"].(map[string]map[string]any)["/orgs"]["get"].(map[string]any)["requestBody"] = map[string]any{
		"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Nope"}}}}
	raw, _ = json.Marshal(doc)
	if d, err := openapi3.NewLoader().LoadFromData(raw); err == nil {
		if err := d.Validate(context.Background()); err == nil {
			t.Fatal("a dangling $ref passed validation")
		}
	}
}
