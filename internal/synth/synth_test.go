package synth_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/internal/synth"
	"github.com/aiobs/aiobs/render"
)

func TestGenerationIsDeterministic(t *testing.T) {
	for _, o := range []synth.Options{synth.ForWorkloads(1, 0), synth.ForWorkloads(45, 1), synth.ForWorkloads(1000, 7)} {
		a, b := synth.Generate(o), synth.Generate(o)
		if len(a) != len(b) {
			t.Fatalf("%+v: %d files, then %d", o, len(a), len(b))
		}
		for i := range a {
			if a[i].Name != b[i].Name || !bytes.Equal(a[i].Data, b[i].Data) {
				t.Fatalf("%+v: %s differs between two generations", o, a[i].Name)
			}
		}
	}
}

func TestWriteMatchesGenerate(t *testing.T) {
	o := synth.ForWorkloads(30, 3)
	dir := t.TempDir()
	if err := synth.Write(dir, o); err != nil {
		t.Fatal(err)
	}
	for _, f := range synth.Generate(o) {
		got, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, f.Data) {
			t.Errorf("%s on disk differs from Generate", f.Name)
		}
	}
}

func TestSeedsDiffer(t *testing.T) {
	a, b := synth.Generate(synth.ForWorkloads(20, 1)), synth.Generate(synth.ForWorkloads(20, 2))
	same := true
	for i := range a {
		same = same && bytes.Equal(a[i].Data, b[i].Data)
	}
	if same {
		t.Error("seeds 1 and 2 generate the same repository")
	}
}

func TestSizes(t *testing.T) {
	for _, tc := range []struct{ workloads, teams int }{{1, 1}, {10, 1}, {20, 1}, {45, 3}, {1000, 50}, {5000, 250}} {
		files := synth.Generate(synth.ForWorkloads(tc.workloads, 1))
		teams, workloads := 0, 0
		for _, f := range files {
			if strings.HasPrefix(f.Name, "team-") {
				teams++
				workloads += strings.Count(string(f.Data), "\t\t\tbackend: ")
			}
		}
		if teams != tc.teams || workloads != tc.workloads {
			t.Errorf("ForWorkloads(%d): %d teams, %d workloads; want %d teams, %d workloads", tc.workloads, teams, workloads, tc.teams, tc.workloads)
		}
	}
}

// TestGeneratedRepositoryCompiles proves the generator writes what the
// standard accepts: every workload in three environments, and every backend
// the generator mixes in appears.
func TestGeneratedRepositoryCompiles(t *testing.T) {
	dir := t.TempDir()
	o := synth.ForWorkloads(25, 1) // two teams, every backend
	if err := synth.Write(dir, o); err != nil {
		t.Fatal(err)
	}
	p, err := compile.Compile(context.Background(), dir, compile.Options{Cwd: dir})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	if got, want := len(p.Targets), 25*len(synth.Environments); got != want {
		t.Errorf("%d targets, want %d", got, want)
	}
	seen := map[string]bool{}
	for _, tg := range p.Targets {
		seen[tg.Workload.Backend] = true
	}
	for _, want := range []string{"vllm", "sglang", "tgi", "triton", "gateway", "otel-genai"} {
		if !seen[want] {
			t.Errorf("no workload on %s", want)
		}
	}
	// The benchmarks render what synth writes; a mix render refuses would
	// stop them.
	if _, err := render.Render(p); err != nil {
		t.Fatalf("render: %v", err)
	}
}
