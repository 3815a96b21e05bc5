// Package crypt encrypts secrets at rest (endpoint signing secrets and the like)
// with AES-256-GCM, and loads or creates the key that does it.
//
// A ciphertext is one version byte, a 12-byte random nonce and the GCM output
// (the encrypted data followed by a 16-byte tag). The version byte is
// authenticated too, so it cannot be changed without Decrypt noticing.
package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of an encryption key in bytes (AES-256).
const KeySize = 32

// KeyFile is the name of the key file LoadKey keeps in the data directory.
const KeyFile = "encryption.key"

// EnvKey is the environment variable that LoadKey's envValue comes from.
const EnvKey = "HERALD_ENCRYPTION_KEY"

const (
	version1  = 1  // the only ciphertext format so far
	nonceSize = 12 // GCM's standard nonce size
	tagSize   = 16 // GCM's tag size
)

// ErrDecrypt is wrapped by every error Decrypt returns.
var ErrDecrypt = errors.New("cannot decrypt")

// Box, made by NewBox, encrypts and decrypts with one key; it is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// NewBox returns a Box that uses key, which must be KeySize bytes.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("crypt: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("crypt: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("crypt: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Encrypt returns plaintext encrypted and authenticated under a fresh random nonce.
func (b *Box) Encrypt(plaintext []byte) ([]byte, error) {
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+tagSize)
	out[0] = version1
	nonce := out[1 : 1+nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("crypt: generate nonce: %w", err)
	}
	return b.aead.Seal(out, nonce, plaintext, out[:1]), nil
}

// Decrypt returns the plaintext of a ciphertext made by Encrypt with the same key;
// its errors wrap ErrDecrypt and say whether the input is truncated, of an unknown
// version, or fails authentication (a different key, or tampered data).
func (b *Box) Decrypt(ciphertext []byte) ([]byte, error) {
	if len(ciphertext) == 0 {
		return nil, fmt.Errorf("crypt: %w: empty ciphertext", ErrDecrypt)
	}
	if v := ciphertext[0]; v != version1 {
		return nil, fmt.Errorf("crypt: %w: unknown ciphertext version %d", ErrDecrypt, v)
	}
	if len(ciphertext) < 1+nonceSize+tagSize {
		return nil, fmt.Errorf("crypt: %w: ciphertext is %d bytes, shorter than the minimum %d", ErrDecrypt, len(ciphertext), 1+nonceSize+tagSize)
	}
	nonce, sealed := ciphertext[1:1+nonceSize], ciphertext[1+nonceSize:]
	plaintext, err := b.aead.Open(nil, nonce, sealed, ciphertext[:1])
	if err != nil {
		return nil, fmt.Errorf("crypt: %w: authentication failed: wrong key or tampered data", ErrDecrypt)
	}
	return plaintext, nil
}

// LoadKey returns the encryption key: decoded from envValue (the value of
// HERALD_ENCRYPTION_KEY: standard base64, or 64 hex digits) when it is not empty,
// else read from dataDir/encryption.key (base64), which it creates with a new
// random key, mode 0600, if it does not exist (and dataDir, mode 0700, if needed).
func LoadKey(dataDir string, envValue string) ([]byte, error) {
	if envValue != "" {
		key, err := parseKey(envValue, true)
		if err != nil {
			return nil, fmt.Errorf("%s: want %d bytes, base64 or hex: %w", EnvKey, KeySize, err)
		}
		return key, nil
	}
	if dataDir == "" {
		return nil, fmt.Errorf("crypt: %s is not set and there is no data directory to keep a key in", EnvKey)
	}
	path := filepath.Join(dataDir, KeyFile)
	key, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKeyFile(dataDir, path)
	}
	return key, err
}

// parseKey decodes s, ignoring surrounding white space, as standard base64 or,
// if allowHex, as 64 hex digits, and checks that it is KeySize bytes.
func parseKey(s string, allowHex bool) ([]byte, error) {
	s = strings.TrimSpace(s)
	var key []byte
	var err error
	if allowHex && len(s) == 2*KeySize {
		// 64 characters of base64 would be 48 bytes, so this is not ambiguous.
		key, err = hex.DecodeString(s)
	} else {
		key, err = base64.StdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, err
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("decoded to %d bytes", len(key))
	}
	return key, nil
}

// readKeyFile reads and decodes an existing key file.
func readKeyFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("crypt: read key: %w", err)
	}
	key, err := parseKey(string(data), false)
	if err != nil {
		return nil, fmt.Errorf("crypt: key file %s: want %d bytes of base64: %w", path, KeySize, err)
	}
	return key, nil
}

// createKeyFile writes a new random key to path, atomically: it is written to a
// temporary file in the same directory and then linked into place, so a reader
// never sees a partial file and, if another process created the key meanwhile,
// that key is kept and returned instead.
func createKeyFile(dataDir, path string) ([]byte, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("crypt: create data directory: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("crypt: generate key: %w", err)
	}

	tmp, err := os.CreateTemp(dataDir, "."+KeyFile+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("crypt: create key file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after a successful link or rename this is a no-op or removes the extra name
	if err := writeAndSync(tmp, base64.StdEncoding.EncodeToString(key)+"\n"); err != nil {
		return nil, fmt.Errorf("crypt: write key file: %w", err)
	}

	// os.Link fails if path exists, unlike os.Rename, which would replace a key
	// another process just created (and may already have encrypted data with).
	err = os.Link(tmpName, path)
	switch {
	case errors.Is(err, fs.ErrExist):
		return readKeyFile(path)
	case err != nil:
		// Hard links are not supported everywhere; fall back to rename, which is
		// atomic but not exclusive, after checking once more that no key appeared.
		if _, statErr := os.Lstat(path); statErr == nil {
			return readKeyFile(path)
		}
		if err := os.Rename(tmpName, path); err != nil {
			return nil, fmt.Errorf("crypt: install key file: %w", err)
		}
	}
	syncDir(dataDir)
	return key, nil
}

// writeAndSync writes s to f, restricts it to mode 0600, flushes it to disk and closes it.
func writeAndSync(f *os.File, s string) error {
	_, err := f.WriteString(s)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	return err
}

// syncDir flushes a directory entry to disk where the platform supports it; the
// key is already in place, so a failure here is not worth failing for.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
