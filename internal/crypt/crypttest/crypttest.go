// Package crypttest gives tests the cipher a store encrypts secrets with.
package crypttest

import (
	"crypto/rand"
	"testing"

	"github.com/heraldhq/herald/internal/crypt"
)

// NewBox returns a cipher with a new random key.
func NewBox(t testing.TB) *crypt.Box {
	t.Helper()
	key := make([]byte, crypt.KeySize)
	rand.Read(key)
	box, err := crypt.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}
