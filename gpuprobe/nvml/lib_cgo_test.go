//go:build cgo && linux

package nvml_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aiobs/aiobs/gpuprobe/backend"
	"github.com/aiobs/aiobs/gpuprobe/nvml"
)

// Without libnvidia-ml.so.1 the real adapter fails Init cleanly and
// refuses everything else; with a driver it lists the GPUs and reads a few
// fields.
func TestTheRealAdapterOnThisMachine(t *testing.T) {
	ctx := context.Background()
	b := nvml.New()
	if _, err := b.GPUs(ctx); !errors.Is(err, backend.ErrNotOpen) {
		t.Fatalf("GPUs before Init: %v", err)
	}
	if _, err := b.Init(ctx); err != nil {
		var missing *backend.MissingLibraryError
		if !errors.As(err, &missing) {
			t.Logf("libnvidia-ml present but init failed: %v", err)
		}
		if _, err := b.Latest(ctx, backend.Entity{Kind: backend.KindGPU}, []uint16{150}); !errors.Is(err, backend.ErrNotOpen) {
			t.Fatalf("Latest after a failed Init: %v", err)
		}
		return
	}
	defer func() {
		if err := b.Shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	gpus, err := b.GPUs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gpus {
		samples, err := b.Latest(ctx, backend.Entity{Kind: backend.KindGPU, ID: g.ID}, []uint16{50, 150, 155, 203, 252, 1001})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("gpu %d %s %s mig=%v: %+v", g.ID, g.Model, g.UUID, g.MIG, samples)
	}
}
