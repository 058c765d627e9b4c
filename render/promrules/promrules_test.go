package promrules

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/write"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func updating() bool { return *update || os.Getenv("AIOBS_UPDATE") == "1" }

const goldenDir = "testdata/golden"

// compileExample compiles the example decisions once per test binary:
// CUE evaluation dominates these tests, more so under -race.
var compileExample = sync.OnceValues(func() (*plan.Plan, error) {
	return compile.Compile(context.Background(), filepath.Join("..", "..", "examples"), compile.Options{})
})

func examplePlan(t *testing.T) *plan.Plan {
	t.Helper()
	p, err := compileExample()
	if err != nil {
		t.Fatalf("compile examples: %v", err)
	}
	return p
}

func renderExample(t *testing.T) []write.File {
	t.Helper()
	files, err := Render(examplePlan(t))
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return files
}

// TestExampleMatchesGolden compares every artifact of the example with the
// committed tree under testdata/golden, and that the tree holds nothing
// else.
func TestExampleMatchesGolden(t *testing.T) {
	files := renderExample(t)
	if updating() {
		if err := os.RemoveAll(goldenDir); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			path := filepath.Join(goldenDir, filepath.FromSlash(f.Path))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, f.Bytes, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	var want []string
	err := filepath.WalkDir(goldenDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(goldenDir, path)
		want = append(want, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatalf("read golden tree (run with -update to create it): %v", err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Path)
		golden, err := os.ReadFile(filepath.Join(goldenDir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Errorf("%s: no golden file (run with -update)", f.Path)
			continue
		}
		if diff := cmp.Diff(string(golden), string(f.Bytes)); diff != "" {
			t.Errorf("%s differs from its golden file (-golden +rendered; run with -update):\n%s", f.Path, diff)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("artifact list differs from the golden tree (-golden +rendered):\n%s", diff)
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	a, err := Render(examplePlan(t))
	if err != nil {
		t.Fatal(err)
	}
	// A fresh compilation decodes every map anew, so any map-order leak
	// shows up as a difference.
	p, err := compile.Compile(context.Background(), filepath.Join("..", "..", "examples"), compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two renders differ:\n%s", diff)
	}
}

func TestRenderWritesTheFixedPaths(t *testing.T) {
	var got []string
	for _, f := range renderExample(t) {
		if strings.HasPrefix(f.Path, "prod/") && strings.Contains(f.Path, "chat") || f.Path == "prod/alertmanager/alertmanager.yaml" {
			got = append(got, f.Path)
		}
	}
	want := []string{
		"prod/kubernetes/prometheusrules/assistants--chat.yaml",
		"prod/prometheus/rules/assistants/chat.yaml",
		"prod/prometheus/tests/assistants/chat_test.yaml",
		"prod/alertmanager/alertmanager.yaml",
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
}
