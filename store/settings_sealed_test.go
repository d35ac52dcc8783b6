package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"

	"portico/store"
)

// TestSealedSettingSealsLegacyValueOnRead: a key stored unsealed by an
// older version keeps its value and is sealed in place on the first read.
func TestSealedSettingSealsLegacyValueOnRead(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	legacy := bytes.Repeat([]byte{7}, 64)
	if err := s.PutSetting(ctx, "session.hash_key", legacy); err != nil {
		t.Fatal(err)
	}
	got, err := s.SealedSetting(ctx, sealer, "session.hash_key", 64)
	if err != nil || !bytes.Equal(got, legacy) {
		t.Fatalf("first read: %x, %v; want the legacy value", got, err)
	}
	stored, _ := s.Setting(ctx, "session.hash_key")
	if bytes.Contains(stored, legacy) || len(stored) == 64 {
		t.Fatalf("the value is still stored in the clear: %x", stored)
	}
	if again, err := s.SealedSetting(ctx, sealer, "session.hash_key", 64); err != nil || !bytes.Equal(again, legacy) {
		t.Fatalf("second read: %x, %v", again, err)
	}

	fresh, err := s.SealedSetting(ctx, sealer, "session.block_key", 32)
	if err != nil || len(fresh) != 32 {
		t.Fatalf("new key: %d bytes, %v", len(fresh), err)
	}
	if stored, _ := s.Setting(ctx, "session.block_key"); bytes.Contains(stored, fresh) {
		t.Fatal("a new key is stored in the clear")
	}
	other, _ := store.NewSealer(bytes.Repeat([]byte{1}, 32))
	if _, err := s.SealedSetting(ctx, other, "session.block_key", 32); err == nil {
		t.Fatal("a sealed key opened under another secret key")
	}
}
