package pool

import (
	"errors"
	"strings"
	"testing"
)

func TestPasswordRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Fatalf("hash %q is not PHC argon2id", h)
	}
	if err := CheckPassword(h, "correct horse battery"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := CheckPassword(h, "correct horse batterY"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong password: %v", err)
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
	if err := CheckPassword("$2a$10$bcrypt", "x"); err == nil {
		t.Fatal("a foreign hash verified")
	}
}

func TestGeneratePassword(t *testing.T) {
	p := GeneratePassword()
	if len(p) != 20 || CheckPasswordStrength(p) != "" {
		t.Fatalf("generated %q", p)
	}
	if GeneratePassword() == p {
		t.Fatal("generated passwords repeat")
	}
}
