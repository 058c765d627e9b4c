package render_test

import (
	"context"
	"flag"
	"github.com/aiobs/aiobs/render/write/writetest"
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
	writetest.GoldenTree(t, goldenDir, files, writetest.Updating(*update))
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
