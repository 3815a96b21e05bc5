package main

import (
	"os"

	"github.com/mattn/go-isatty"
)

// terminal is implemented by streams that know whether they are a terminal; tests
// give commands such streams to act as a person at a terminal.
type terminal interface{ IsTerminal() bool }

// isTerminal reports whether s is a terminal (a person can answer or read colours),
// not a pipe, a file or /dev/null.
func isTerminal(s any) bool {
	switch f := s.(type) {
	case terminal:
		return f.IsTerminal()
	case *os.File:
		return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
	}
	return false
}
