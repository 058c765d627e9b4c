package promrules

import (
	"bytes"
	"context"
	"flag"
	"github.com/aiobs/aiobs/render/write/writetest"
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
	writetest.GoldenTree(t, goldenDir, files, updating())
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
	// bytes.Equal: cmp's reflective walk of megabytes of []byte takes
	// minutes under the race detector.
	if diff := cmp.Diff(a, b, cmp.Comparer(bytes.Equal)); diff != "" {
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
