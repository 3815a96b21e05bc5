//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package datadir

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on f without waiting; the kernel releases it
// when the file is closed or the process dies, however it dies.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return ErrDataDirLocked
		}
		return fmt.Errorf("flock %s: %w", f.Name(), err)
	}
}
