package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestTilesDrawnOnceAreTheSame: a tile from the cache is the tile drawn
// afresh, each badge has its own, and a name or logo with markup is
// escaped, from the cache too.
func TestTilesDrawnOnceAreTheSame(t *testing.T) {
	ctx := context.Background()
	nasty := AppTile{ClientID: `x"><script>alert(1)</script>`, Name: `<img src=x onerror=alert(1)>`, LogoURL: `https://x.example/"><script>alert(2)</script>`}
	tiles := []AppTile{
		{ClientID: "wiki", Name: "Team wiki"},
		{ClientID: "wiki", Name: "Team wiki", Badge: "mfa"},
		{ClientID: "wiki", Name: "Team wiki", Badge: "group"},
		{ClientID: "crm", Name: "CRM", LogoURL: "https://crm.example/logo.png", Badge: "blocked"},
		nasty,
	}
	fresh := func(a AppTile) string {
		var b bytes.Buffer
		if err := appTile(a).Render(ctx, &b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	var want strings.Builder
	for _, a := range tiles {
		want.WriteString(fresh(a))
	}
	for round := range 2 {
		var got bytes.Buffer
		if err := tileList(tiles).Render(ctx, &got); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("round %d: cached tiles differ:\n%s\nwant\n%s", round, got.String(), want.String())
		}
	}
	if fresh(tiles[0]) == fresh(tiles[1]) || fresh(tiles[1]) == fresh(tiles[2]) {
		t.Error("tiles with different badges are drawn alike")
	}
	var b bytes.Buffer
	if err := tileList([]AppTile{nasty}).Render(ctx, &b); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Find("script").Length() != 0 || doc.Find("img[onerror]").Length() != 0 {
		t.Fatalf("markup in a tile's fields was not escaped: %s", b.String())
	}
	if id, _ := doc.Find(".tile").Attr("data-client-id"); id != nasty.ClientID {
		t.Errorf("client id attribute: %q", id)
	}
}

// TestNavDrawnOnce: a Nav writes what navBar draws, and a nil Nav nothing.
func TestNavDrawnOnce(t *testing.T) {
	groups := []NavGroup{{Label: "You", Items: []NavItem{{Label: "Apps", Href: "/", Active: true}}},
		{Label: "Platform", Items: []NavItem{{Label: "Organizations", Href: "/admin/orgs"}}}}
	n, err := NewNav(groups)
	if err != nil {
		t.Fatal(err)
	}
	var want, got bytes.Buffer
	if err := navBar(groups).Render(context.Background(), &want); err != nil {
		t.Fatal(err)
	}
	if err := n.Render(context.Background(), &got); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() || !strings.Contains(got.String(), `aria-current="page"`) {
		t.Fatalf("nav:\n%s\nwant\n%s", got.String(), want.String())
	}
	var none *Nav
	got.Reset()
	if err := none.Render(context.Background(), &got); err != nil || got.Len() != 0 {
		t.Fatalf("nil nav wrote %q (%v)", got.String(), err)
	}
}
