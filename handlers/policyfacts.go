package handlers

import (
	"errors"
	"net/netip"
	"time"

	"github.com/labstack/echo/v4"

	"portico/policyeditor"
	"portico/store"
)

// clientAddress is the request's source address, as echo's IPExtractor
// found it (X-Forwarded-For only from trusted proxies), with IPv4-mapped
// IPv6 unmapped, and its country; zero values when unknown.
func clientAddress(c echo.Context, loc policyeditor.Locator) (netip.Addr, string) {
	ip, err := netip.ParseAddr(c.RealIP())
	if err != nil {
		return netip.Addr{}, ""
	}
	ip = ip.Unmap()
	if loc == nil {
		return ip, ""
	}
	return ip, loc.Country(ip)
}

// policyFacts is what a policy decision needs about a person and a request
// that does not change from one app to the next: loaded once per request,
// however many apps the dashboard pre-evaluates.
type policyFacts struct {
	ip        netip.Addr
	country   string
	plan      string // slug; "" without a plan
	locations []store.Location
	// methods are the session's amr values with when each was last used.
	methods map[string]time.Time
}

// loadPolicyFacts reads the plan's slug and the user's remembered locations,
// once per principal cache entry when userID is the signed-in viewer
// (remembering or forgetting a location, or changing plans, moves the data
// version; the last-use touch of a launch does not, and no policy reads it).
// The locations returned may be shared: callers only read them.
func loadPolicyFacts(c echo.Context, st *store.Store, loc policyeditor.Locator, org store.Organization, userID string) (policyFacts, error) {
	ctx := c.Request().Context()
	var f policyFacts
	f.ip, f.country = clientAddress(c, loc)
	var p *principal
	if v := viewerFrom(c); v != nil && v.principal != nil && v.principal.user.ID == userID && v.principal.current(ctx, st) {
		p = v.principal
		if pf := p.facts.Load(); pf != nil && pf.planID == org.PlanID {
			f.plan, f.locations = pf.plan, pf.locations
			return f, nil
		}
	}
	keep := p != nil
	if org.PlanID != "" {
		pl, err := st.Plan(ctx, org.PlanID)
		if err == nil {
			f.plan = pl.Slug
		} else if !errors.Is(err, store.ErrNotFound) {
			keep = false // a failed read is not remembered
		}
	}
	var err error
	f.locations, err = st.Locations(ctx, userID)
	if err == nil && keep {
		p.facts.Store(&principalFacts{planID: org.PlanID, plan: f.plan, locations: f.locations})
	}
	return f, err
}

// evaluation starts the policy question at point for u with these facts.
func (f policyFacts) evaluation(point policyeditor.Point, now time.Time, org store.Organization, u *store.User) *policyeditor.Evaluation {
	return policyeditor.NewEvaluation(point, now, org, f.plan, u, f.locations, f.ip, f.country)
}

// rememberHere adds the request's network to the user's remembered
// locations, after a passed step-up; without an address there is nothing
// to remember.
func rememberHere(c echo.Context, st *store.Store, loc policyeditor.Locator, userID string, now time.Time) error {
	ip, country := clientAddress(c, loc)
	if !ip.IsValid() {
		return nil
	}
	return st.RememberLocation(c.Request().Context(), userID, policyeditor.LocationOf(ip), country, now)
}
