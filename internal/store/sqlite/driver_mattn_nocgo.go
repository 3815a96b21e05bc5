//go:build sqlite_cgo && !cgo

package sqlite

// A build with -tags sqlite_cgo asks for SQLite's C code, which needs cgo: rather than
// fall back to the pure-Go driver without a word, such a build fails here. Build with
// CGO_ENABLED=1 and a C compiler (gcc or clang), or without the tag.
var _ = sqlite_cgo_needs_CGO_ENABLED_1_and_a_C_compiler
