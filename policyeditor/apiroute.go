package policyeditor

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"portico/store"
)

// An "API request" policy is attached to a route: the requests for an API
// (any when empty), on a host (any when empty), whose path lies under a
// prefix. When several routes match, the most specific decides: a named
// API over none, a named host over any, then the longer prefix.

// sortRoutes orders routes most specific first, so the first match wins.
func sortRoutes(rs []store.APIRoute) {
	slices.SortStableFunc(rs, func(a, b store.APIRoute) int {
		if (a.API != "") != (b.API != "") {
			return boolOrder(a.API != "")
		}
		if (a.Host != "") != (b.Host != "") {
			return boolOrder(a.Host != "")
		}
		return len(b.PathPrefix) - len(a.PathPrefix)
	})
}

func boolOrder(first bool) int {
	if first {
		return -1
	}
	return 1
}

// matchRoute returns the policy of the most specific route matching r.
func matchRoute(rs []store.APIRoute, r *HTTPRequest) string {
	for i := range rs {
		rt := &rs[i]
		if (rt.API == "" || rt.API == r.API) && (rt.Host == "" || rt.Host == r.Host) && underPrefix(r.Path, rt.PathPrefix) {
			return rt.PolicyID
		}
	}
	return ""
}

// underPrefix reports whether p is prefix or below it, segment-wise:
// "/customers" covers "/customers/7" but not "/customersX".
func underPrefix(p, prefix string) bool {
	if prefix == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == prefix || strings.HasPrefix(p, prefix) && p[len(prefix)] == '/'
}

// NormalizeRoute checks and normalizes a route's host and path prefix as
// an admin typed them: lower-case host without port, a clean absolute
// prefix without trailing slash.
func NormalizeRoute(r store.APIRoute) (store.APIRoute, error) {
	r.Host = strings.ToLower(strings.TrimSpace(r.Host))
	r.API = strings.TrimSpace(r.API)
	if strings.ContainsAny(r.Host, " /:") {
		return r, fmt.Errorf("policyeditor: %q is not a host name without port", r.Host)
	}
	p := strings.TrimSpace(r.PathPrefix)
	if p == "" {
		p = "/"
	}
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#{}*") {
		return r, fmt.Errorf("policyeditor: path prefix %q must be a plain absolute path such as /customers", p)
	}
	r.PathPrefix = path.Clean(p)
	return r, nil
}

// AttachRoute makes policyID, which must be an api_request policy, the
// policy of route (replacing what was there), and records who did it.
func (s *Service) AttachRoute(ctx context.Context, actor store.Actor, policyID string, route store.APIRoute) error {
	route, err := NormalizeRoute(route)
	if err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx *store.Store) error {
		p, err := tx.Policy(ctx, policyID)
		if err != nil {
			return err
		}
		if Kind(p.Kind) != KindAPIRequest {
			return fmt.Errorf("%w: an API route needs an api_request policy, and %q is %s", ErrWrongKind, p.Name, p.Kind)
		}
		// A route for an API names a registered one (oauth_apis), so a typo
		// cannot leave the API without its policy.
		if route.API != "" {
			if _, err := tx.APIByIdentifier(ctx, route.API); errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w: %q", ErrUnknownAPI, route.API)
			} else if err != nil {
				return err
			}
		}
		route.PolicyID = policyID
		before, err := tx.AttachAPIRoute(ctx, route)
		if err != nil {
			return err
		}
		e := actor.Event("", "policy.attach", "policy", policyID)
		return tx.Audit(ctx, e, map[string]string{"target": RouteString(route), "policy_id": before},
			map[string]string{"target": RouteString(route), "policy_id": policyID})
	})
}

// DetachRoute removes the policy of route.
func (s *Service) DetachRoute(ctx context.Context, actor store.Actor, route store.APIRoute) error {
	route, err := NormalizeRoute(route)
	if err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(tx *store.Store) error {
		before, err := tx.DetachAPIRoute(ctx, route.API, route.Host, route.PathPrefix)
		if err != nil || before == "" {
			return err
		}
		e := actor.Event("", "policy.detach", "policy", before)
		return tx.Audit(ctx, e, map[string]string{"target": RouteString(route), "policy_id": before}, nil)
	})
}

// RouteString describes a route for people: "API requests to /customers on api.example".
func RouteString(r store.APIRoute) string {
	s := "API requests to " + r.PathPrefix
	if r.Host != "" {
		s += " on " + r.Host
	}
	if r.API != "" {
		s += " of API " + r.API
	}
	return s
}
