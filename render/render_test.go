package render_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/render"
	"github.com/aiobs/aiobs/render/write/writetest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/example from a fresh render")

const goldenDir = "../testdata/golden/example"

// bytesEqual compares file contents at once: cmp walks a []byte element
// by element through reflection, which takes minutes under the race
// detector for a few megabytes.
var bytesEqual = cmp.Comparer(bytes.Equal)

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
		if diff := cmp.Diff(first, other, bytesEqual); diff != "" {
			t.Errorf("%s: render differs (-first +other):\n%s", name, diff)
		}
	}
}

// TestRenderWithSink streams the example through a Sink, as the CLI does,
// and requires exactly Render's files, each carrying its unit's key except
// the environments' own.
func TestRenderWithSink(t *testing.T) {
	want := renderExample(t)
	p, err := compile.Compile(context.Background(), "../examples", compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []render.Artifact
	res, err := render.RenderWith(p, render.Options{Salt: "test", Sink: func(a render.Artifact) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, a)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 0 {
		t.Errorf("Result.Files holds %d files with a Sink", len(res.Files))
	}
	slices.SortFunc(got, func(a, b render.Artifact) int { return strings.Compare(a.Path, b.Path) })
	keyed := 0
	for i := range got {
		if got[i].Key != "" {
			keyed++
		}
		got[i].Key = ""
	}
	if diff := cmp.Diff(want, got, bytesEqual); diff != "" {
		t.Errorf("streamed files differ (-Render +Sink):\n%s", diff)
	}
	if keyed == 0 || keyed == len(got) {
		t.Errorf("%d of %d files carry a key; want the units' files only", keyed, len(got))
	}

	// Reuse hands files through untouched, renders no unit it vouches
	// for, and counts them.
	res, err = render.RenderWith(p, render.Options{Salt: "test", Reuse: func(keys []string) (map[string][]render.Artifact, error) {
		reused := map[string][]render.Artifact{}
		for i, k := range keys {
			reused[k] = []render.Artifact{{Path: fmt.Sprintf("reused/%02d.json", i), Key: k}}
		}
		return reused, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range res.Files {
		if strings.HasPrefix(f.Path, "reused/") {
			n++
		}
	}
	if res.Reused != 15 || res.Units != 15 || n != 15 {
		t.Errorf("reused %d of %d units, %d files handed through; want 15 of 15, 15", res.Reused, res.Units, n)
	}

	stop := errors.New("disk full")
	if _, err := render.RenderWith(p, render.Options{Sink: func(render.Artifact) error { return stop }}); !errors.Is(err, stop) {
		t.Errorf("a failing Sink: %v", err)
	}
}
