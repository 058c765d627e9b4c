// Package standards embeds the aiobs standard: the CUE schema of the
// decision layer (#Decisions, #Environment, #Team, #Workload, #SLOs), the
// organisation defaults, the label taxonomy, the burn-rate window catalogue
// and the backend metric catalogues.
//
// It only hands out the CUE sources; compile evaluates them. Nothing here
// knows about Go types of the plan or about output formats.
package standards

import (
	"embed"
	"io/fs"
	"path"
	"slices"
	"strings"
)

//go:embed *.cue backends/*.cue
var files embed.FS

//go:embed scaffold/*.cue.txt
var scaffold embed.FS

// FilenamePrefix is how positions inside the standard are named in error
// messages, so users can tell the standard's constraints from their files.
const FilenamePrefix = "aiobs-standard/v1/"

// Source is one file of the standard.
type Source struct {
	// Name is the file's path under FilenamePrefix.
	Name string
	Data []byte
}

// Sources returns every file of the standard, sorted by name.
func Sources() []Source {
	var out []Source
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".cue" {
			return err
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, Source{Name: FilenamePrefix + p, Data: data})
		return nil
	})
	if err != nil {
		// The embedded file system is fixed at build time; failing to walk
		// it is a broken binary, not a user error.
		panic("standards: reading embedded files: " + err.Error())
	}
	slices.SortFunc(out, func(a, b Source) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}

// Scaffold returns the files of a minimal decisions repository (one
// environment, one team, one workload) that compiles as it is, sorted by
// name. aiobs init writes them.
func Scaffold() []Source {
	entries, err := scaffold.ReadDir("scaffold")
	if err != nil {
		panic("standards: reading embedded scaffold: " + err.Error())
	}
	var out []Source
	for _, e := range entries {
		data, err := scaffold.ReadFile("scaffold/" + e.Name())
		if err != nil {
			panic("standards: reading embedded scaffold: " + err.Error())
		}
		out = append(out, Source{Name: strings.TrimSuffix(e.Name(), ".txt"), Data: data})
	}
	return out
}
