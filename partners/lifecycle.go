package partners

import (
	"context"
	"slices"
	"time"

	"portico/store"
)

// EndingSoonWindow is how far ahead the platform admin's list of ending
// partnerships looks.
const EndingSoonWindow = 30 * 24 * time.Hour

// Suspend stops everything of the organization at once: sign-in, launches,
// tokens. Its refresh tokens are revoked in the same transaction, so
// reactivating later does not bring old grants back.
func (s *Service) Suspend(ctx context.Context, actor store.Actor, slug string) (store.Organization, error) {
	st := store.OrgSuspended
	return s.UpdateOrg(ctx, actor, slug, OrgInput{Status: &st})
}

// Reactivate lifts a suspension. It does not extend an ended partnership;
// that is a change of valid_until.
func (s *Service) Reactivate(ctx context.Context, actor store.Actor, slug string) (store.Organization, error) {
	st := store.OrgActive
	return s.UpdateOrg(ctx, actor, slug, OrgInput{Status: &st})
}

// EndingSoon returns the organizations that are active now and whose
// partnership ends within window after now, soonest first: the ones a
// platform admin should renew or let lapse on purpose.
func EndingSoon(orgs []store.Organization, now time.Time, window time.Duration) []store.Organization {
	var out []store.Organization
	for _, o := range orgs {
		if o.ValidUntil.IsZero() || o.InactiveReason(now) != "" {
			continue
		}
		if o.ValidUntil.Sub(now) <= window {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b store.Organization) int { return a.ValidUntil.Compare(b.ValidUntil) })
	return out
}
