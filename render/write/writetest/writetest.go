// Package writetest compares rendered artifacts with a committed golden
// tree, the way every render package's tests do: each file byte for byte,
// and the tree holding exactly the rendered paths. With update set it
// rewrites the tree instead. It is a test helper, in the style of
// net/http/httptest, and imports nothing from aiobs but render/write.
package writetest

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/render/write"
)

// Updating reports whether goldens should be rewritten: the package's
// -update flag (passed as flag) or AIOBS_UPDATE=1 for the whole tree.
func Updating(flag bool) bool { return flag || os.Getenv("AIOBS_UPDATE") == "1" }

// GoldenTree compares files with the tree under root, or rewrites the tree
// when update is set.
func GoldenTree(t testing.TB, root string, files []write.File, update bool) {
	t.Helper()
	if update {
		if err := os.RemoveAll(root); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			p := filepath.Join(root, filepath.FromSlash(f.Path))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, f.Bytes, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	var want, got []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		want = append(want, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatalf("read golden tree %s (run with -update or AIOBS_UPDATE=1 to create it): %v", root, err)
	}
	for _, f := range files {
		got = append(got, f.Path)
		golden, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Errorf("%s: no golden file; run with -update or AIOBS_UPDATE=1", f.Path)
			continue
		}
		if d := cmp.Diff(string(golden), string(f.Bytes)); d != "" {
			t.Errorf("%s differs from its golden file (-golden +rendered); run with -update if intended:\n%s", f.Path, d)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rendered paths differ from the golden tree (-golden +rendered):\n%s", d)
	}
}
