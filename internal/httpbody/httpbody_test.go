package httpbody

import (
	"bytes"
	"errors"
	"testing"
	"testing/iotest"
)

// TestRead checks that Read reads every body whole, whatever its announced length
// (none, right, too small, too large), and that the announcement alone does not size the
// buffer beyond MaxPresize.
func TestRead(t *testing.T) {
	for _, size := range []int{0, 1, 511, 512, 513, 1300, MaxPresize - 1, MaxPresize, MaxPresize + 1, 3*MaxPresize + 7, 1 << 20} {
		body := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		for _, announced := range []int64{-1, 0, int64(size), int64(size) / 2, int64(size) * 2, 1 << 30} {
			got, err := Read(iotest.HalfReader(bytes.NewReader(body)), announced)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("size %d, announced %d: %d bytes, %v", size, announced, len(got), err)
			}
			if size == 0 && cap(got) > MaxPresize {
				t.Errorf("an empty body announced as %d bytes took a %d-byte buffer", announced, cap(got))
			}
		}
	}
	if _, err := Read(iotest.ErrReader(errors.New("boom")), 10); err == nil || err.Error() != "boom" {
		t.Errorf("reader error: %v", err)
	}
}

// TestReadAllocs checks that a body of the announced length is read into one allocation.
func TestReadAllocs(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 1300)
	r := bytes.NewReader(body)
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset(body)
		if b, err := Read(r, int64(len(body))); err != nil || len(b) != len(body) {
			t.Fatal(len(b), err)
		}
	})
	if allocs > 1 {
		t.Errorf("Read allocates %.0f times, want 1", allocs)
	}
}
