package gpuprobe_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/gpuprobe"
	"github.com/aiobs/aiobs/gpuprobe/backend"
	"github.com/aiobs/aiobs/gpuprobe/fake"
	"github.com/aiobs/aiobs/gpuprobe/report"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func updating() bool { return *update || os.Getenv("AIOBS_UPDATE") == "1" }

// goldenDir holds the scenario reports, at the repository root.
const goldenDir = "../testdata/gpuprobe"

// golden compares got with the named golden file, or rewrites it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if updating() {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update or AIOBS_UPDATE=1 to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got); run with -update to accept:\n%s", path, diff)
	}
}

// probe runs Probe on a named fake scenario with the fake's clock.
func probe(t *testing.T, ctx context.Context, name string, opts gpuprobe.Options) (*fake.Backend, report.Report, error) {
	t.Helper()
	sc, err := fake.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	b := fake.New(sc)
	opts.Clock = b.Clock()
	rep, err := gpuprobe.Probe(ctx, b, opts)
	return b, rep, err
}

func TestProbeMatchesTheGoldenReportOfEveryScenario(t *testing.T) {
	for _, name := range fake.Names() {
		t.Run(name, func(t *testing.T) {
			_, rep, err := probe(t, context.Background(), name, gpuprobe.Options{})
			if err != nil {
				// Scenarios without a report pin their error message.
				golden(t, name+".err", []byte(err.Error()+"\n"))
				return
			}
			var js, txt bytes.Buffer
			if err := report.Write(&js, rep); err != nil {
				t.Fatal(err)
			}
			if err := report.Text(&txt, rep); err != nil {
				t.Fatal(err)
			}
			golden(t, name+".json", js.Bytes())
			golden(t, name+".txt", txt.Bytes())

			// The golden reads back and writes the same bytes.
			back, err := report.Read(bytes.NewReader(js.Bytes()))
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			var again bytes.Buffer
			if err := report.Write(&again, back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(js.String(), again.String()); diff != "" {
				t.Errorf("write(read(report)) differs (-first +second):\n%s", diff)
			}
		})
	}
}

func TestProbeIsDeterministic(t *testing.T) {
	for _, name := range []string{"datacenter", "mig", "mixed", "profiler-busy"} {
		t.Run(name, func(t *testing.T) {
			var outs [2]bytes.Buffer
			for i := range outs {
				_, rep, err := probe(t, context.Background(), name, gpuprobe.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if err := report.Write(&outs[i], rep); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(outs[0].Bytes(), outs[1].Bytes()) {
				t.Error("two probes of the same scenario wrote different bytes")
			}
		})
	}
}

func TestProbeReturnsTypedErrors(t *testing.T) {
	t.Run("init failing is no backend, naming the library and the install step", func(t *testing.T) {
		_, _, err := probe(t, context.Background(), "no-dcgm", gpuprobe.Options{})
		var nb *gpuprobe.NoBackendError
		if !errors.As(err, &nb) {
			t.Fatalf("err = %v (%T), want *NoBackendError", err, err)
		}
		if !errors.Is(err, backend.ErrLibraryNotFound) {
			t.Errorf("errors.Is(err, ErrLibraryNotFound) = false for %v", err)
		}
		for _, want := range []string{"libdcgm.so.4", "apt-get install datacenter-gpu-manager-4-core"} {
			if !bytes.Contains([]byte(err.Error()), []byte(want)) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
	})
	t.Run("no gpus is its own error", func(t *testing.T) {
		_, _, err := probe(t, context.Background(), "no-gpus", gpuprobe.Options{})
		var ng *gpuprobe.NoGPUError
		if !errors.As(err, &ng) {
			t.Fatalf("err = %v (%T), want *NoGPUError", err, err)
		}
	})
}
