package crypt

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func testKey(b byte) []byte {
	return bytes.Repeat([]byte{b}, KeySize)
}

func newTestBox(t *testing.T, key []byte) *Box {
	t.Helper()
	box, err := NewBox(key)
	if err != nil {
		t.Fatalf("NewBox: %v", err)
	}
	return box
}

func TestNewBoxKeyLength(t *testing.T) {
	tests := []struct {
		n       int
		wantErr bool
	}{
		{0, true},
		{16, true},
		{24, true},
		{31, true},
		{32, false},
		{33, true},
		{64, true},
	}
	for _, tt := range tests {
		_, err := NewBox(make([]byte, tt.n))
		if (err != nil) != tt.wantErr {
			t.Errorf("NewBox(%d bytes) error = %v, want error %v", tt.n, err, tt.wantErr)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	box := newTestBox(t, testKey(1))
	for _, plaintext := range [][]byte{
		nil,
		{},
		[]byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
		bytes.Repeat([]byte{0xab}, 1<<16),
	} {
		ct, err := box.Encrypt(plaintext)
		if err != nil {
			t.Fatalf("Encrypt: %v", err)
		}
		if want := 1 + nonceSize + len(plaintext) + tagSize; len(ct) != want {
			t.Errorf("ciphertext length = %d, want %d", len(ct), want)
		}
		if ct[0] != version1 {
			t.Errorf("version byte = %d, want %d", ct[0], version1)
		}
		if len(plaintext) > 8 && bytes.Contains(ct, plaintext[:8]) {
			t.Errorf("ciphertext contains the plaintext")
		}
		got, err := box.Decrypt(ct)
		if err != nil {
			t.Fatalf("Decrypt: %v", err)
		}
		if !bytes.Equal(got, plaintext) {
			t.Errorf("Decrypt = %q, want %q", got, plaintext)
		}
	}
}

func TestEncryptUsesFreshNonces(t *testing.T) {
	box := newTestBox(t, testKey(1))
	a, _ := box.Encrypt([]byte("same"))
	b, _ := box.Encrypt([]byte("same"))
	if bytes.Equal(a, b) {
		t.Fatal("two encryptions of the same plaintext are identical")
	}
}

func TestDecryptErrors(t *testing.T) {
	box := newTestBox(t, testKey(1))
	ct, err := box.Encrypt([]byte("secret value"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		c := bytes.Clone(ct)
		c[i] ^= 1
		return c
	}
	other, _ := newTestBox(t, testKey(2)).Encrypt([]byte("secret value"))

	tests := []struct {
		name  string
		input []byte
		want  string
	}{
		{"nil", nil, "empty ciphertext"},
		{"empty", []byte{}, "empty ciphertext"},
		{"unknown version 0", append([]byte{0}, ct[1:]...), "unknown ciphertext version 0"},
		{"unknown version 2", append([]byte{2}, ct[1:]...), "unknown ciphertext version 2"},
		{"version only", []byte{version1}, "shorter than the minimum"},
		{"no tag", ct[:1+nonceSize], "shorter than the minimum"},
		{"truncated tag", ct[:1+nonceSize+tagSize-1], "shorter than the minimum"},
		{"truncated", ct[:len(ct)-1], "authentication failed"},
		{"tampered nonce", flip(1), "authentication failed"},
		{"tampered data", flip(1 + nonceSize), "authentication failed"},
		{"tampered tag", flip(len(ct) - 1), "authentication failed"},
		{"extended", append(bytes.Clone(ct), 0), "authentication failed"},
		{"other key", other, "authentication failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := box.Decrypt(tt.input)
			if err == nil {
				t.Fatalf("Decrypt = %q, nil; want error", got)
			}
			if !errors.Is(err, ErrDecrypt) {
				t.Errorf("error %q does not wrap ErrDecrypt", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadKeyFromEnv(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	tests := []struct {
		name    string
		env     string
		want    []byte
		wantErr string
	}{
		{"base64", base64.StdEncoding.EncodeToString(key), key, ""},
		{"base64 with newline", base64.StdEncoding.EncodeToString(key) + "\n", key, ""},
		{"hex", hex.EncodeToString(key), key, ""},
		{"upper-case hex", strings.ToUpper(hex.EncodeToString(key)), key, ""},
		{"base64 too short", base64.StdEncoding.EncodeToString(key[:16]), nil, "decoded to 16 bytes"},
		{"base64 too long", base64.StdEncoding.EncodeToString(append(key, 1)), nil, "decoded to 33 bytes"},
		{"hex too short", hex.EncodeToString(key[:31]), nil, "illegal base64"},
		{"malformed hex", strings.Repeat("g", 64), nil, "invalid byte"},
		{"url-safe base64", strings.Repeat("_", 43) + "=", nil, "illegal base64"},
		{"unpadded base64", strings.TrimRight(base64.StdEncoding.EncodeToString(key), "="), nil, "illegal base64"},
		{"not a key", "my secret password", nil, "illegal base64"},
		{"only spaces", "   ", nil, "decoded to 0 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			got, err := LoadKey(dir, tt.env)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("LoadKey = %x, nil; want error containing %q", got, tt.wantErr)
				}
				prefix := "HERALD_ENCRYPTION_KEY: want 32 bytes, base64 or hex: "
				if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q, want %q followed by %q", err, prefix, tt.wantErr)
				}
			} else if err != nil || !bytes.Equal(got, tt.want) {
				t.Errorf("LoadKey = %x, %v; want %x, nil", got, err, tt.want)
			}
			// The environment variable wins: no key file is read or created.
			if _, err := os.Stat(filepath.Join(dir, KeyFile)); !os.IsNotExist(err) {
				t.Errorf("key file exists after loading from the environment (stat: %v)", err)
			}
		})
	}
}

func TestLoadKeyCreatesFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested") // does not exist yet
	key, err := LoadKey(dir, "")
	if err != nil {
		t.Fatalf("LoadKey: %v", err)
	}
	if len(key) != KeySize || bytes.Equal(key, make([]byte, KeySize)) {
		t.Fatalf("LoadKey returned %x, want 32 random bytes", key)
	}
	if _, err := NewBox(key); err != nil {
		t.Fatalf("NewBox(LoadKey()): %v", err)
	}

	path := filepath.Join(dir, KeyFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), base64.StdEncoding.EncodeToString(key)+"\n"; got != want {
		t.Errorf("key file = %q, want %q", got, want)
	}
	if runtime.GOOS != "windows" {
		checkMode(t, path, 0o600)
		checkMode(t, dir, 0o700)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("data directory holds %d entries, want only %s (temporary file left behind?)", len(entries), KeyFile)
	}

	again, err := LoadKey(dir, "")
	if err != nil {
		t.Fatalf("second LoadKey: %v", err)
	}
	if !bytes.Equal(again, key) {
		t.Errorf("second LoadKey = %x, want the first key %x", again, key)
	}

	// A key in the environment takes precedence over the file.
	env := testKey(7)
	got, err := LoadKey(dir, base64.StdEncoding.EncodeToString(env))
	if err != nil || !bytes.Equal(got, env) {
		t.Errorf("LoadKey with env = %x, %v; want %x", got, err, env)
	}
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %v, want %v", path, got, want)
	}
}

func TestLoadKeyExistingDirectoryKeepsMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(dir, ""); err != nil {
		t.Fatal(err)
	}
	checkMode(t, dir, 0o750)
	checkMode(t, filepath.Join(dir, KeyFile), 0o600)
}

func TestLoadKeyReadsExistingFile(t *testing.T) {
	key := testKey(9)
	tests := []struct {
		name    string
		content string
		wantErr string
	}{
		{"base64 with newline", base64.StdEncoding.EncodeToString(key) + "\n", ""},
		{"base64 without newline", base64.StdEncoding.EncodeToString(key), ""},
		{"wrong length", base64.StdEncoding.EncodeToString(key[:16]) + "\n", "decoded to 16 bytes"},
		{"hex is not accepted in the file", hex.EncodeToString(key), "decoded to 48 bytes"},
		{"garbage", "not a key!\n", "illegal base64"},
		{"empty", "", "decoded to 0 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, KeyFile)
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := LoadKey(dir, "")
			if tt.wantErr == "" {
				if err != nil || !bytes.Equal(got, key) {
					t.Errorf("LoadKey = %x, %v; want %x, nil", got, err, key)
				}
				return
			}
			if err == nil {
				t.Fatalf("LoadKey = %x, nil; want error", got)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q should name %s and contain %q", err, path, tt.wantErr)
			}
			// A malformed key file is an error, never silently replaced.
			if data, _ := os.ReadFile(path); string(data) != tt.content {
				t.Errorf("key file was changed to %q", data)
			}
		})
	}
}

func TestLoadKeyErrors(t *testing.T) {
	t.Run("no data directory", func(t *testing.T) {
		if _, err := LoadKey("", ""); err == nil || !strings.Contains(err.Error(), EnvKey) {
			t.Errorf("LoadKey(\"\", \"\") error = %v, want one naming %s", err, EnvKey)
		}
	})
	t.Run("data directory is a file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKey(file, ""); err == nil {
			t.Error("LoadKey with a file as data directory succeeded")
		}
	})
	t.Run("key path is a directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, KeyFile), 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKey(dir, ""); err == nil || !strings.Contains(err.Error(), "read key") {
			t.Errorf("LoadKey error = %v, want a read error", err)
		}
	})
}

func TestLoadKeyConcurrentCreation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	const n = 16
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = LoadKey(dir, "") })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("LoadKey %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("concurrent LoadKey calls returned different keys: %x and %x", keys[0], keys[i])
		}
	}
	onDisk, err := LoadKey(dir, "")
	if err != nil || !bytes.Equal(onDisk, keys[0]) {
		t.Errorf("key on disk = %x, %v; want %x", onDisk, err, keys[0])
	}
}

func TestKeyFromLoadKeyDecryptsAcrossBoxes(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	ct, err := newTestBox(t, k1).Encrypt([]byte("endpoint secret"))
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadKey(dir, "") // as after a restart
	if err != nil {
		t.Fatal(err)
	}
	pt, err := newTestBox(t, k2).Decrypt(ct)
	if err != nil || string(pt) != "endpoint secret" {
		t.Errorf("Decrypt after reload = %q, %v", pt, err)
	}
}
