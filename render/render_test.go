package render_test

import (
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/render"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/example from a fresh render")

const goldenDir = "../testdata/golden/example"

func renderExample(t testing.TB) []render.Artifact {
	t.Helper()
	p, err := compile.Compile(context.Background(), "../examples", compile.Options{})
	if err != nil {
		t.Fatalf("compile examples: %v", err)
	}
	files, err := render.Render(p)
	if err != nil {
		t.Fatalf("render examples: %v", err)
	}
	return files
}

// TestExampleGolden compares the rendered example, file by file, with the
// committed tree under testdata/golden/example. With -update or
// AIOBS_UPDATE=1 it rewrites that tree instead.
func TestExampleGolden(t *testing.T) {
	files := renderExample(t)
	if *update || os.Getenv("AIOBS_UPDATE") == "1" {
		if err := os.RemoveAll(goldenDir); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			p := filepath.Join(goldenDir, filepath.FromSlash(f.Path))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, f.Bytes, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	var onDisk []string
	err := filepath.WalkDir(goldenDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(goldenDir, p)
		onDisk = append(onDisk, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatalf("read golden tree: %v (run go test ./render -update)", err)
	}
	var rendered []string
	for _, f := range files {
		rendered = append(rendered, f.Path)
		want, err := os.ReadFile(filepath.Join(goldenDir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Errorf("%s: not in the golden tree", f.Path)
			continue
		}
		if diff := cmp.Diff(string(want), string(f.Bytes)); diff != "" {
			t.Errorf("%s differs from the golden file (-want +got):\n%s", f.Path, diff)
		}
	}
	slices.Sort(onDisk)
	if diff := cmp.Diff(onDisk, rendered); diff != "" {
		t.Errorf("golden file list differs (-golden +rendered):\n%s", diff)
	}
}

// TestRenderIsDeterministic renders the example with one and with many
// processors, and in a copy of the decisions written in reverse order, and
// requires identical bytes.
func TestRenderIsDeterministic(t *testing.T) {
	first := renderExample(t)

	prev := runtime.GOMAXPROCS(1)
	single := renderExample(t)
	runtime.GOMAXPROCS(prev)

	dir := t.TempDir()
	entries, err := os.ReadDir("../examples")
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(entries)
	for _, e := range entries {
		if e.IsDir() {
			if err := os.CopyFS(filepath.Join(dir, e.Name()), os.DirFS(filepath.Join("../examples", e.Name()))); err != nil {
				t.Fatal(err)
			}
			continue
		}
		data, err := os.ReadFile(filepath.Join("../examples", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := compile.Compile(context.Background(), dir, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	copied, err := render.Render(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) == 0 {
		t.Fatal("the example rendered no files")
	}
	for name, other := range map[string][]render.Artifact{"GOMAXPROCS=1": single, "reversed files": copied} {
		if diff := cmp.Diff(first, other); diff != "" {
			t.Errorf("%s: render differs (-first +other):\n%s", name, diff)
		}
	}
}
