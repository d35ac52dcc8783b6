package store_test

import (
	"context"
	"testing"

	"portico/store"
)

// The 00780 rebuild keeps policies, their versions and attachments, accepts
// the api_request kind, and routes follow their policy when it is deleted.
func TestAPIRoutesAndKind(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	p := &store.Policy{Name: "api", Kind: "api_request"}
	if err := s.CreatePolicy(ctx, p, &store.PolicyVersion{Document: []byte(`{}`), Author: "t"}); err != nil {
		t.Fatalf("create api_request policy: %v", err)
	}
	before, err := s.AttachAPIRoute(ctx, store.APIRoute{Host: "api.example", PathPrefix: "/customers", PolicyID: p.ID})
	if err != nil || before != "" {
		t.Fatalf("attach: %q %v", before, err)
	}
	rs, err := s.APIRoutes(ctx, p.ID)
	if err != nil || len(rs) != 1 || rs[0].PathPrefix != "/customers" || rs[0].Host != "api.example" {
		t.Fatalf("routes: %+v %v", rs, err)
	}
	if got, err := s.DetachAPIRoute(ctx, "", "api.example", "/customers"); err != nil || got != p.ID {
		t.Fatalf("detach: %q %v", got, err)
	}
	if rs, _ := s.APIRoutes(ctx, ""); len(rs) != 0 {
		t.Fatalf("after detach: %+v", rs)
	}
}
