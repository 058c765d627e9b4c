package gpuprobe_test

import (
	"bytes"
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aiobs/aiobs/gpuprobe"
	"github.com/aiobs/aiobs/gpuprobe/report"
)

// TestARealNode probes the machine's real backend. It is opt-in
// (AIOBS_GPU_TESTS=1) because it needs a GPU; values are never asserted,
// only the shape of the report. AIOBS_GPU_REPORT=path keeps the JSON, e.g.
// as a real-hardware fixture under testdata/gpuprobe.
func TestARealNode(t *testing.T) {
	if os.Getenv("AIOBS_GPU_TESTS") != "1" {
		t.Skip("set AIOBS_GPU_TESTS=1 on a GPU node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := gpuprobe.Open(ctx, gpuprobe.OpenOptions{HostEngine: os.Getenv("AIOBS_HOSTENGINE")})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := gpuprobe.Probe(ctx, b, gpuprobe.Options{Window: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.GPUs) == 0 {
		t.Fatal("no gpus in the report")
	}
	for _, g := range rep.GPUs {
		for _, f := range g.Fields {
			if !slices.Contains(report.Statuses(), f.Status) {
				t.Errorf("gpu %d field %d: status %q", g.Index, f.ID, f.Status)
			}
		}
	}
	var js, txt bytes.Buffer
	if err := report.Write(&js, rep); err != nil {
		t.Fatal(err)
	}
	if _, err := report.Read(bytes.NewReader(js.Bytes())); err != nil {
		t.Fatalf("the report does not read back: %v", err)
	}
	if err := report.Text(&txt, rep); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + txt.String())
	if path := os.Getenv("AIOBS_GPU_REPORT"); path != "" {
		if err := os.WriteFile(path, js.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
