package scim

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"portico/store"
)

const userSchema = "urn:ietf:params:scim:schemas:core:2.0:User"

func (e *Error) Error() string { return e.Detail }

// inTx runs fn in one transaction and turns its failure into a SCIM error.
func (s *Server) inTx(ctx context.Context, fn func(tx *store.Store) error) *Error {
	return asError(s.Store.InTx(ctx, fn))
}

func asError(err error) *Error {
	var e *Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e):
		return e
	case errors.Is(err, store.ErrNotFound):
		return notFound("Resource")
	case errors.Is(err, store.ErrAlreadyExists):
		return &Error{Status: http.StatusConflict, Type: "uniqueness", Detail: "A resource with that name or externalId already exists."}
	}
	return internal(err)
}

// userState is a user as the directory sees it.
type userState struct {
	userName, externalID, displayName, formatted, given, family, email string
	active                                                             bool
}

func stateOf(u store.User, su store.SCIMUser) userState {
	st := userState{userName: su.UserName, externalID: su.ExternalID, formatted: u.Name, email: u.Email,
		given: u.Attributes["given_name"], family: u.Attributes["family_name"], displayName: u.Attributes["display_name"],
		active: u.Status == store.UserActive}
	if st.userName == "" {
		st.userName = u.Email
	}
	return st
}

// setAttr applies one attribute (a lower-cased path without the core
// schema's URN) to st. Attributes Portico does not keep (phone numbers,
// titles, the enterprise extension…) are accepted and ignored, as
// directories send them whatever the target supports.
func (st *userState) setAttr(path string, v any, remove bool) *Error {
	path = strings.TrimPrefix(path, strings.ToLower(userSchema)+":")
	if emailsTypeRE.MatchString(path) {
		path = "emails.value"
	}
	text := func() (string, *Error) {
		if remove || v == nil {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", badRequest("invalidValue", "The attribute "+path+" must be a string.")
		}
		return strings.TrimSpace(s), nil
	}
	var e *Error
	switch path {
	case "username":
		if remove {
			return badRequest("mutability", "userName cannot be removed.")
		}
		st.userName, e = text()
	case "externalid":
		st.externalID, e = text()
	case "displayname":
		st.displayName, e = text()
	case "name.formatted":
		st.formatted, e = text()
	case "name.givenname":
		st.given, e = text()
	case "name.familyname":
		st.family, e = text()
	case "emails.value":
		st.email, e = text()
	case "active":
		if remove {
			return badRequest("mutability", "active cannot be removed.")
		}
		b, ok := boolean(v)
		if !ok {
			return badRequest("invalidValue", "active must be true or false.")
		}
		st.active = b
	case "name":
		if remove {
			st.formatted, st.given, st.family = "", "", ""
			return nil
		}
		m, ok := v.(obj)
		if !ok {
			return badRequest("invalidValue", "name must be an object.")
		}
		for k, val := range m {
			if e := st.setAttr("name."+k, val, false); e != nil {
				return e
			}
		}
	case "emails":
		if remove {
			st.email = ""
			return nil
		}
		list, ok := v.([]any)
		if !ok {
			return badRequest("invalidValue", "emails must be an array.")
		}
		var first, primary string
		for _, it := range list {
			m, _ := it.(obj)
			val, _, _ := m.str("value")
			if first == "" {
				first = val
			}
			if p, _ := boolean(m["primary"]); p && primary == "" {
				primary = val
			}
		}
		st.email = primary
		if st.email == "" {
			st.email = first
		}
	}
	return e
}

// setAll applies every attribute of an object (a POST or PUT body, or a
// PATCH operation without a path).
func (st *userState) setAll(o obj) *Error {
	for k, v := range o {
		if e := st.setAttr(k, v, false); e != nil {
			return e
		}
	}
	return nil
}

// address is the user's email: the chosen email, else a userName that is
// one.
func (st userState) address() string {
	if st.email != "" {
		return strings.ToLower(st.email)
	}
	return strings.ToLower(st.userName)
}

func (st userState) name() string {
	switch {
	case st.formatted != "":
		return st.formatted
	case st.displayName != "":
		return st.displayName
	case strings.TrimSpace(st.given+" "+st.family) != "":
		return strings.TrimSpace(st.given + " " + st.family)
	}
	a := st.address()
	return a[:max(strings.IndexByte(a, '@'), 0)]
}

func (st userState) check() *Error {
	switch {
	case st.userName == "":
		return badRequest("invalidValue", "userName is required.")
	case len(st.userName) > 320 || len(st.externalID) > 320:
		return badRequest("invalidValue", "userName and externalId are at most 320 characters.")
	}
	a := st.address()
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 || strings.ContainsAny(a, " \t\r\n<>") {
		return badRequest("invalidValue", "The user needs an email address: a userName or emails value of the form name@domain.")
	}
	return nil
}

// userJSON renders a user as a SCIM User resource.
func (s *Server) userJSON(ctx context.Context, t tenant, u store.User, su store.SCIMUser, gs []store.Group) map[string]any {
	st := stateOf(u, su)
	name := map[string]any{"formatted": u.Name}
	if st.given != "" {
		name["givenName"] = st.given
	}
	if st.family != "" {
		name["familyName"] = st.family
	}
	groups := []map[string]string{}
	for _, g := range gs {
		groups = append(groups, map[string]string{"value": g.ID, "display": g.Name})
	}
	out := map[string]any{
		"schemas":  []string{userSchema},
		"id":       u.ID,
		"userName": st.userName,
		"name":     name,
		"emails":   []map[string]any{{"value": u.Email, "type": "work", "primary": true}},
		"active":   u.Status == store.UserActive,
		"groups":   groups,
		"meta": map[string]any{
			"resourceType": "User",
			"created":      u.CreatedAt.Format(time.RFC3339),
			"lastModified": u.UpdatedAt.Format(time.RFC3339),
			"location":     s.BaseURL(t.org.Slug) + "/Users/" + u.ID,
		},
	}
	if st.displayName != "" {
		out["displayName"] = st.displayName
	}
	if st.externalID != "" {
		out["externalId"] = st.externalID
	}
	return out
}

func (s *Server) loadUser(ctx context.Context, tx *store.Store, t tenant, id string) (store.User, store.SCIMUser, error) {
	u, err := tx.User(ctx, t.org.ID, id)
	if err != nil {
		return u, store.SCIMUser{}, err
	}
	// A platform admin's account is never the directory's to change.
	if u.PlatformAdmin {
		return u, store.SCIMUser{}, notFound("User")
	}
	su, err := tx.SCIMUserOf(ctx, t.org.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		err = nil
	}
	return u, su, err
}

func (s *Server) renderUser(ctx context.Context, t tenant, id string) (map[string]any, *Error) {
	u, su, err := s.loadUser(ctx, s.Store, t, id)
	if err != nil {
		return nil, asError(err)
	}
	gs, err := s.Store.UserGroups(ctx, t.org.ID, id)
	if err != nil {
		return nil, internal(err)
	}
	return s.userJSON(ctx, t, u, su, gs), nil
}

func (s *Server) getUser(r *http.Request, t tenant, id string) (int, any, *Error) {
	body, e := s.renderUser(r.Context(), t, id)
	return http.StatusOK, body, e
}

func (s *Server) listUsers(r *http.Request, t tenant) (int, any, *Error) {
	ctx := r.Context()
	f, e := parseFilter(r.URL.Query().Get("filter"), "username", "externalid", "id", "emails.value", "emails")
	if e != nil {
		return 0, nil, e
	}
	users, err := s.Store.Users(ctx, t.org.ID)
	if err != nil {
		return 0, nil, internal(err)
	}
	var out []map[string]any
	for _, u := range users {
		if u.PlatformAdmin {
			continue
		}
		su, err := s.Store.SCIMUserOf(ctx, t.org.ID, u.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return 0, nil, internal(err)
		}
		st := stateOf(u, su)
		if f != nil {
			var ok bool
			switch f.attr {
			case "username":
				ok = strings.EqualFold(st.userName, f.value)
			case "externalid":
				ok = st.externalID != "" && st.externalID == f.value
			case "id":
				ok = u.ID == f.value
			default:
				ok = strings.EqualFold(u.Email, f.value)
			}
			if !ok {
				continue
			}
		}
		gs, err := s.Store.UserGroups(ctx, t.org.ID, u.ID)
		if err != nil {
			return 0, nil, internal(err)
		}
		out = append(out, s.userJSON(ctx, t, u, su, gs))
	}
	start, count := page(r)
	return http.StatusOK, listResponse(out, start, count), nil
}

func (s *Server) createUser(r *http.Request, t tenant) (int, any, *Error) {
	ctx := r.Context()
	body, e := readBody(r)
	if e != nil {
		return 0, nil, e
	}
	st := userState{active: true}
	if e := st.setAll(body); e != nil {
		return 0, nil, e
	}
	if e := st.check(); e != nil {
		return 0, nil, e
	}
	var id string
	e = s.inTx(ctx, func(tx *store.Store) error {
		if _, err := tx.UserBySCIMUserName(ctx, t.org.ID, st.userName); err == nil {
			return asError(store.ErrAlreadyExists)
		}
		if _, err := tx.UserByEmail(ctx, t.org.ID, st.address()); err == nil {
			return asError(store.ErrAlreadyExists)
		}
		if err := s.domainCheck(ctx, tx, t, st.address()); err != nil {
			return err
		}
		u := store.User{OrgID: t.org.ID, Email: st.address(), Name: st.name(), Role: store.RoleMember,
			Attributes: nameAttrs(nil, st)}
		if !st.active {
			u.Status = store.UserDisabled
		}
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		id = u.ID
		if err := tx.PutSCIMUser(ctx, store.SCIMUser{UserID: u.ID, OrgID: t.org.ID, UserName: st.userName, ExternalID: st.externalID}); err != nil {
			return err
		}
		return tx.Audit(ctx, t.actor.Event(t.org.ID, "scim.user.create", "user", u.ID), nil,
			map[string]any{"userName": st.userName, "externalId": st.externalID, "email": u.Email, "active": st.active})
	})
	if e != nil {
		return 0, nil, e
	}
	out, e := s.renderUser(ctx, t, id)
	return http.StatusCreated, out, e
}

// domainCheck refuses an address whose domain another organization owns, as
// federated sign-in does.
func (s *Server) domainCheck(ctx context.Context, tx *store.Store, t tenant, email string) error {
	domain := email[strings.LastIndexByte(email, '@')+1:]
	owner, err := tx.OrganizationByDomain(ctx, domain)
	if err == nil && owner.ID != t.org.ID {
		return badRequest("invalidValue", "The email's domain belongs to another organization.")
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

func nameAttrs(in map[string]string, st userState) map[string]string {
	out := map[string]string{}
	for k, v := range in {
		out[k] = v
	}
	for k, v := range map[string]string{"given_name": st.given, "family_name": st.family, "display_name": st.displayName} {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// update loads a user, lets change alter the directory's view of them and
// writes the result: deactivation ends their sessions and refresh tokens in
// the same transaction.
func (s *Server) update(ctx context.Context, t tenant, id string, change func(*userState) *Error) *Error {
	return s.inTx(ctx, func(tx *store.Store) error {
		u, su, err := s.loadUser(ctx, tx, t, id)
		if err != nil {
			return err
		}
		before := stateOf(u, su)
		st := before
		if e := change(&st); e != nil {
			return e
		}
		if e := st.check(); e != nil {
			return e
		}
		if st.address() != u.Email {
			if other, err := tx.UserByEmail(ctx, t.org.ID, st.address()); err == nil && other.ID != u.ID {
				return asError(store.ErrAlreadyExists)
			}
			if err := s.domainCheck(ctx, tx, t, st.address()); err != nil {
				return err
			}
		}
		_, after, err := tx.UpdateUser(ctx, t.org.ID, id, func(x *store.User) error {
			if st.address() != x.Email {
				x.Email, x.EmailVerified = st.address(), false
			}
			x.Name = st.name()
			x.Attributes = nameAttrs(x.Attributes, st)
			if st.active {
				x.Status = store.UserActive
			} else {
				x.Status = store.UserDisabled
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := tx.PutSCIMUser(ctx, store.SCIMUser{UserID: id, OrgID: t.org.ID, UserName: st.userName, ExternalID: st.externalID}); err != nil {
			return err
		}
		action := "scim.user.update"
		if before.active && !st.active {
			action = "scim.user.deactivate"
			if err := s.endAccess(ctx, tx, after, "deactivated by the directory"); err != nil {
				return err
			}
		} else if !before.active && st.active {
			action = "scim.user.reactivate"
		}
		return tx.Audit(ctx, t.actor.Event(t.org.ID, action, "user", id),
			auditState(before), auditState(st))
	})
}

func auditState(st userState) map[string]any {
	return map[string]any{"userName": st.userName, "externalId": st.externalID, "email": st.address(),
		"name": st.name(), "active": st.active}
}

// endAccess signs u out everywhere and revokes their refresh tokens (and
// the access tokens minted from them).
func (s *Server) endAccess(ctx context.Context, tx *store.Store, u store.User, reason string) error {
	if err := tx.DeleteUserSessions(ctx, u.ID); err != nil {
		return err
	}
	return tx.RevokeUserRefreshFamilies(ctx, u.OrgID, u.ID, reason, s.Now())
}

func (s *Server) replaceUser(r *http.Request, t tenant, id string) (int, any, *Error) {
	body, e := readBody(r)
	if e != nil {
		return 0, nil, e
	}
	e = s.update(r.Context(), t, id, func(st *userState) *Error {
		active := true
		if v, ok := body["active"]; ok {
			b, ok := boolean(v)
			if !ok {
				return badRequest("invalidValue", "active must be true or false.")
			}
			active = b
		}
		// PUT replaces: what the body leaves out is cleared.
		*st = userState{active: active}
		return st.setAll(body)
	})
	if e != nil {
		return 0, nil, e
	}
	out, e := s.renderUser(r.Context(), t, id)
	return http.StatusOK, out, e
}

func (s *Server) patchUser(r *http.Request, t tenant, id string) (int, any, *Error) {
	ops, e := readPatch(r)
	if e != nil {
		return 0, nil, e
	}
	e = s.update(r.Context(), t, id, func(st *userState) *Error {
		for _, op := range ops {
			if op.path == "" {
				// Okta: {"op": "replace", "value": {"active": false}}.
				m, ok := op.value.(obj)
				if !ok || op.op == "remove" {
					return badRequest("noTarget", "An operation without a path needs an object value.")
				}
				if e := st.setAll(m); e != nil {
					return e
				}
				continue
			}
			if e := st.setAttr(strings.ToLower(op.path), op.value, op.op == "remove"); e != nil {
				return e
			}
		}
		return nil
	})
	if e != nil {
		return 0, nil, e
	}
	out, e := s.renderUser(r.Context(), t, id)
	return http.StatusOK, out, e
}

func (s *Server) deleteUser(r *http.Request, t tenant, id string) (int, any, *Error) {
	ctx := r.Context()
	e := s.inTx(ctx, func(tx *store.Store) error {
		u, su, err := s.loadUser(ctx, tx, t, id)
		if err != nil {
			return err
		}
		if err := s.endAccess(ctx, tx, u, "deleted by the directory"); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, t.org.ID, id); err != nil {
			return err
		}
		return tx.Audit(ctx, t.actor.Event(t.org.ID, "scim.user.delete", "user", id), auditState(stateOf(u, su)), nil)
	})
	return http.StatusNoContent, nil, e
}
