package policyeditor

import (
	"encoding/json"
	"testing"
)

func TestZeroValuesDeny(t *testing.T) {
	var a Action
	if a != Deny {
		t.Fatalf("zero Action = %v, want deny", a)
	}
	var d Decision
	if d.Action != Deny {
		t.Fatalf("zero Decision.Action = %v, want deny", d.Action)
	}
	// A rule built in Go without an action denies.
	p, err := Compile(Document{Name: "t", Kind: KindUserAccess, Default: Permit,
		Rules: []Rule{{Conditions: []Condition{{Type: CondOrg, In: []string{"acme"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Evaluate(&Request{Org: "acme"}); got.Action != Deny || got.Rule != 1 {
		t.Fatalf("rule without action decided %+v, want deny by rule 1", got)
	}
}

func TestActionText(t *testing.T) {
	tests := []struct {
		name string
		a    Action
		json string
	}{
		{"deny", Deny, `"deny"`},
		{"permit", Permit, `"permit"`},
		{"challenge", Challenge, `"challenge"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.a)
			if err != nil || string(b) != tc.json {
				t.Fatalf("Marshal = %s, %v; want %s", b, err, tc.json)
			}
			var back Action = 99
			if err := json.Unmarshal(b, &back); err != nil || back != tc.a {
				t.Fatalf("Unmarshal = %v, %v", back, err)
			}
		})
	}
	var a Action
	if err := json.Unmarshal([]byte(`"allow"`), &a); err == nil {
		t.Fatal(`"allow" accepted as an action`)
	}
	if _, err := json.Marshal(Action(7)); err == nil {
		t.Fatal("invalid action marshalled")
	}
}

func TestDocumentRoundTrip(t *testing.T) {
	doc, err := ParseDocument([]byte(ibmJSON))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var back Document
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("re-reading exported document: %v\n%s", err, b)
	}
	b2, _ := json.Marshal(back)
	if string(b) != string(b2) {
		t.Fatalf("round trip changed the document:\n%s\n%s", b, b2)
	}
}
