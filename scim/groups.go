package scim

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"portico/store"
)

const groupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"

// The directory sees and changes only the groups it pushed (source scim);
// local and sign-in groups are not its to change.
func (s *Server) loadGroup(ctx context.Context, tx *store.Store, t tenant, id string) (store.Group, error) {
	g, err := tx.Group(ctx, t.org.ID, id)
	if err == nil && g.Source != store.GroupSCIM {
		return g, notFound("Group")
	}
	return g, err
}

func (s *Server) groupJSON(t tenant, g store.Group, members []store.User, withMembers bool) map[string]any {
	out := map[string]any{
		"schemas":     []string{groupSchema},
		"id":          g.ID,
		"displayName": g.Name,
		"meta": map[string]any{
			"resourceType": "Group",
			"created":      g.CreatedAt.Format(time.RFC3339),
			"lastModified": g.UpdatedAt.Format(time.RFC3339),
			"location":     s.BaseURL(t.org.Slug) + "/Groups/" + g.ID,
		},
	}
	if g.ExternalID != "" {
		out["externalId"] = g.ExternalID
	}
	if withMembers {
		ms := []map[string]string{}
		for _, u := range members {
			ms = append(ms, map[string]string{"value": u.ID, "display": u.Email,
				"$ref": s.BaseURL(t.org.Slug) + "/Users/" + u.ID})
		}
		out["members"] = ms
	}
	return out
}

// wantsMembers: Okta and Entra ask for groups without their members
// (excludedAttributes=members) when they only look a group up.
func wantsMembers(r *http.Request) bool {
	for _, a := range strings.Split(r.URL.Query().Get("excludedAttributes"), ",") {
		if strings.EqualFold(strings.TrimSpace(a), "members") {
			return false
		}
	}
	return true
}

func (s *Server) renderGroup(ctx context.Context, t tenant, id string, withMembers bool) (map[string]any, *Error) {
	g, err := s.loadGroup(ctx, s.Store, t, id)
	if err != nil {
		return nil, asError(err)
	}
	var members []store.User
	if withMembers {
		if members, err = s.Store.GroupMembers(ctx, t.org.ID, id); err != nil {
			return nil, internal(err)
		}
	}
	return s.groupJSON(t, g, members, withMembers), nil
}

func (s *Server) getGroup(r *http.Request, t tenant, id string) (int, any, *Error) {
	out, e := s.renderGroup(r.Context(), t, id, wantsMembers(r))
	return http.StatusOK, out, e
}

func (s *Server) listGroups(r *http.Request, t tenant) (int, any, *Error) {
	ctx := r.Context()
	f, e := parseFilter(r.URL.Query().Get("filter"), "displayname", "externalid", "id")
	if e != nil {
		return 0, nil, e
	}
	gs, err := s.Store.GroupsBySource(ctx, t.org.ID, store.GroupSCIM)
	if err != nil {
		return 0, nil, internal(err)
	}
	with := wantsMembers(r)
	var out []map[string]any
	for _, g := range gs {
		if f != nil {
			ok := false
			switch f.attr {
			case "displayname":
				ok = strings.EqualFold(g.Name, f.value)
			case "externalid":
				ok = g.ExternalID != "" && g.ExternalID == f.value
			case "id":
				ok = g.ID == f.value
			}
			if !ok {
				continue
			}
		}
		var members []store.User
		if with {
			if members, err = s.Store.GroupMembers(ctx, t.org.ID, g.ID); err != nil {
				return 0, nil, internal(err)
			}
		}
		out = append(out, s.groupJSON(t, g, members, with))
	}
	start, count := page(r)
	return http.StatusOK, listResponse(out, start, count), nil
}

// memberIDs reads a members value: [{"value": "id"}, …].
func memberIDs(v any) ([]string, *Error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		if m, isObj := v.(obj); isObj { // a single member as an object
			list = []any{m}
		} else {
			return nil, badRequest("invalidValue", "members must be an array of {\"value\": id}.")
		}
	}
	var out []string
	for _, it := range list {
		m, ok := it.(obj)
		if !ok {
			return nil, badRequest("invalidValue", "members must be an array of {\"value\": id}.")
		}
		id, _, e := m.str("value")
		if e != nil || id == "" {
			return nil, badRequest("invalidValue", "Each member needs a value: the user's id.")
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// checkMembers refuses ids that are not users of the organization the
// directory may see.
func (s *Server) checkMembers(ctx context.Context, tx *store.Store, t tenant, ids []string) error {
	for _, id := range ids {
		u, err := tx.User(ctx, t.org.ID, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.PlatformAdmin) {
			return badRequest("invalidValue", "No user with id "+id+" in this organization.")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func groupName(body obj) (string, *Error) {
	name, _, e := body.str("displayname")
	if e != nil {
		return "", e
	}
	switch {
	case name == "":
		return "", badRequest("invalidValue", "displayName is required.")
	case len(name) > 200:
		return "", badRequest("invalidValue", "displayName is at most 200 characters.")
	case strings.ContainsRune(name, ','):
		return "", badRequest("invalidValue", "displayName cannot contain a comma: policies list groups separated by commas.")
	}
	return name, nil
}

func (s *Server) createGroup(r *http.Request, t tenant) (int, any, *Error) {
	ctx := r.Context()
	body, e := readBody(r)
	if e != nil {
		return 0, nil, e
	}
	name, e := groupName(body)
	if e != nil {
		return 0, nil, e
	}
	ext, _, e := body.str("externalid")
	if e != nil {
		return 0, nil, e
	}
	ids, e := memberIDs(body["members"])
	if e != nil {
		return 0, nil, e
	}
	g := store.Group{OrgID: t.org.ID, Name: name, Source: store.GroupSCIM, ExternalID: ext}
	e = s.inTx(ctx, func(tx *store.Store) error {
		if err := s.checkMembers(ctx, tx, t, ids); err != nil {
			return err
		}
		if err := tx.CreateGroup(ctx, &g); err != nil {
			return err
		}
		if err := tx.SetGroupMembers(ctx, t.org.ID, g.ID, ids); err != nil {
			return err
		}
		return tx.Audit(ctx, t.actor.Event(t.org.ID, "scim.group.create", "group", g.ID), nil,
			map[string]any{"displayName": name, "externalId": ext, "members": ids})
	})
	if e != nil {
		return 0, nil, e
	}
	out, e := s.renderGroup(ctx, t, g.ID, true)
	return http.StatusCreated, out, e
}

func (s *Server) replaceGroup(r *http.Request, t tenant, id string) (int, any, *Error) {
	ctx := r.Context()
	body, e := readBody(r)
	if e != nil {
		return 0, nil, e
	}
	name, e := groupName(body)
	if e != nil {
		return 0, nil, e
	}
	ext, _, e := body.str("externalid")
	if e != nil {
		return 0, nil, e
	}
	ids, e := memberIDs(body["members"])
	if e != nil {
		return 0, nil, e
	}
	e = s.inTx(ctx, func(tx *store.Store) error {
		g, err := s.loadGroup(ctx, tx, t, id)
		if err != nil {
			return err
		}
		if err := s.checkMembers(ctx, tx, t, ids); err != nil {
			return err
		}
		if err := tx.UpdateGroup(ctx, t.org.ID, id, name, ext); err != nil {
			return err
		}
		if err := tx.SetGroupMembers(ctx, t.org.ID, id, ids); err != nil {
			return err
		}
		return tx.Audit(ctx, t.actor.Event(t.org.ID, "scim.group.update", "group", id),
			map[string]any{"displayName": g.Name}, map[string]any{"displayName": name, "externalId": ext, "members": ids})
	})
	if e != nil {
		return 0, nil, e
	}
	out, e := s.renderGroup(ctx, t, id, true)
	return http.StatusOK, out, e
}

// patchGroup applies the operations Okta and Entra send: add members
// (a value array), remove members (path members[value eq "…"], or path
// members with a value array), replace members, and rename (path
// displayName, or no path and a value object).
func (s *Server) patchGroup(r *http.Request, t tenant, id string) (int, any, *Error) {
	ctx := r.Context()
	ops, e := readPatch(r)
	if e != nil {
		return 0, nil, e
	}
	e = s.inTx(ctx, func(tx *store.Store) error {
		g, err := s.loadGroup(ctx, tx, t, id)
		if err != nil {
			return err
		}
		name, ext := g.Name, g.ExternalID
		var added, removed []string
		add := func(ids []string) error {
			if err := s.checkMembers(ctx, tx, t, ids); err != nil {
				return err
			}
			for _, uid := range ids {
				if ok, err := tx.AddGroupMember(ctx, t.org.ID, id, uid); err != nil {
					return err
				} else if ok {
					added = append(added, uid)
				}
			}
			return nil
		}
		remove := func(ids []string) error {
			for _, uid := range ids {
				if ok, err := tx.RemoveGroupMember(ctx, t.org.ID, id, uid); err != nil {
					return err
				} else if ok {
					removed = append(removed, uid)
				}
			}
			return nil
		}
		setAttrs := func(m obj) error {
			for k, v := range m {
				switch k {
				case "displayname":
					n, e := groupName(obj{"displayname": v})
					if e != nil {
						return e
					}
					name = n
				case "externalid":
					x, _, e := m.str("externalid")
					if e != nil {
						return e
					}
					ext = x
				case "members":
					ids, e := memberIDs(v)
					if e != nil {
						return e
					}
					if err := add(ids); err != nil {
						return err
					}
				}
			}
			return nil
		}
		for _, op := range ops {
			path := strings.ToLower(strings.TrimPrefix(op.path, groupSchema+":"))
			if m := membersPathRE.FindStringSubmatch(op.path); m != nil {
				if op.op != "remove" {
					return badRequest("invalidPath", "Only remove may use a members[value eq …] path.")
				}
				if err := remove([]string{m[1]}); err != nil {
					return err
				}
				continue
			}
			switch {
			case path == "" && op.op != "remove":
				m, ok := op.value.(obj)
				if !ok {
					return badRequest("noTarget", "An operation without a path needs an object value.")
				}
				if op.op == "replace" {
					if _, ok := m["members"]; ok {
						if err := replaceMembers(ctx, s, tx, t, id, m["members"], &added, &removed); err != nil {
							return err
						}
						delete(m, "members")
					}
				}
				if err := setAttrs(m); err != nil {
					return err
				}
			case path == "members" && op.op == "add":
				ids, e := memberIDs(op.value)
				if e != nil {
					return e
				}
				if err := add(ids); err != nil {
					return err
				}
			case path == "members" && op.op == "remove":
				if op.value == nil { // remove every member
					cur, err := tx.GroupMembers(ctx, t.org.ID, id)
					if err != nil {
						return err
					}
					var ids []string
					for _, u := range cur {
						ids = append(ids, u.ID)
					}
					if err := remove(ids); err != nil {
						return err
					}
					continue
				}
				ids, e := memberIDs(op.value)
				if e != nil {
					return e
				}
				if err := remove(ids); err != nil {
					return err
				}
			case path == "members" && op.op == "replace":
				if err := replaceMembers(ctx, s, tx, t, id, op.value, &added, &removed); err != nil {
					return err
				}
			case path == "displayname" && op.op != "remove":
				if err := setAttrs(obj{"displayname": op.value}); err != nil {
					return err
				}
			case path == "externalid":
				if op.op == "remove" {
					ext = ""
				} else if err := setAttrs(obj{"externalid": op.value}); err != nil {
					return err
				}
			default:
				return badRequest("invalidPath", "The path "+op.path+" cannot be changed with "+op.op+".")
			}
		}
		if name != g.Name || ext != g.ExternalID {
			if err := tx.UpdateGroup(ctx, t.org.ID, id, name, ext); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, t.actor.Event(t.org.ID, "scim.group.update", "group", id),
			map[string]any{"displayName": g.Name, "externalId": g.ExternalID},
			map[string]any{"displayName": name, "externalId": ext, "added": added, "removed": removed})
	})
	if e != nil {
		return 0, nil, e
	}
	// 204: a large group's member list is not sent back on every change.
	return http.StatusNoContent, nil, nil
}

func replaceMembers(ctx context.Context, s *Server, tx *store.Store, t tenant, id string, v any, added, removed *[]string) error {
	ids, e := memberIDs(v)
	if e != nil {
		return e
	}
	if err := s.checkMembers(ctx, tx, t, ids); err != nil {
		return err
	}
	cur, err := tx.GroupMembers(ctx, t.org.ID, id)
	if err != nil {
		return err
	}
	for _, u := range cur {
		if !slices.Contains(ids, u.ID) {
			*removed = append(*removed, u.ID)
		}
	}
	for _, uid := range ids {
		if !slices.ContainsFunc(cur, func(u store.User) bool { return u.ID == uid }) {
			*added = append(*added, uid)
		}
	}
	return tx.SetGroupMembers(ctx, t.org.ID, id, ids)
}

func (s *Server) deleteGroup(r *http.Request, t tenant, id string) (int, any, *Error) {
	ctx := r.Context()
	e := s.inTx(ctx, func(tx *store.Store) error {
		g, err := s.loadGroup(ctx, tx, t, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteGroup(ctx, t.org.ID, id); err != nil {
			return err
		}
		return tx.Audit(ctx, t.actor.Event(t.org.ID, "scim.group.delete", "group", id),
			map[string]any{"displayName": g.Name, "externalId": g.ExternalID}, nil)
	})
	return http.StatusNoContent, nil, e
}
