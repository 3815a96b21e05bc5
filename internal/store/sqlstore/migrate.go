package sqlstore

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one version of the schema.
type Migration struct {
	Version int
	Name    string // the file name, for logs
	SQL     string
}

// Migrations returns every migration of a backend's schema in order: each shared file of
// sqlstore's, rendered as a text/template with the backend's column types (such as
// {{.time}}), followed by the backend's own file of the same version in own (nil: none), if any.
// File names start with the version: 0001_init.sql.
func Migrations(own fs.FS, types map[string]string) ([]Migration, error) {
	byVersion := map[int]*Migration{}
	add := func(fsys fs.FS, render bool) error {
		names, err := fs.Glob(fsys, "*.sql")
		if err != nil {
			return err
		}
		for _, name := range names {
			version, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
			if err != nil {
				return fmt.Errorf("migration %s: name must start with a number", name)
			}
			body, err := fs.ReadFile(fsys, name)
			if err != nil {
				return err
			}
			if render {
				if body, err = renderTypes(name, body, types); err != nil {
					return err
				}
			}
			m := byVersion[version]
			if m == nil {
				m = &Migration{Version: version, Name: name}
				byVersion[version] = m
			}
			m.SQL += string(body) + "\n"
		}
		return nil
	}
	shared, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	if err := add(shared, true); err != nil {
		return nil, err
	}
	if own != nil {
		if err := add(own, false); err != nil {
			return nil, err
		}
	}
	out := make([]Migration, 0, len(byVersion))
	for _, m := range byVersion {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// renderTypes fills a shared migration's placeholders with a backend's types.
func renderTypes(name string, body []byte, types map[string]string) ([]byte, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(string(body))
	if err != nil {
		return nil, fmt.Errorf("migration %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, types); err != nil {
		return nil, fmt.Errorf("migration %s: %w", name, err)
	}
	return b.Bytes(), nil
}
