//go:build cgo && linux

package dcgm_test

import (
	"context"
	"errors"
	"testing"

	godcgm "github.com/NVIDIA/go-dcgm/pkg/dcgm"

	"github.com/aiobs/aiobs/gpuprobe"
	"github.com/aiobs/aiobs/gpuprobe/backend"
	"github.com/aiobs/aiobs/gpuprobe/dcgm"
)

// The catalog's names must resolve to its IDs in go-dcgm's name table
// (dcgm.GetFieldID is a Go map lookup: safe without libdcgm).
func TestTheFieldSetMatchesGoDCGMNames(t *testing.T) {
	for _, f := range gpuprobe.Fields() {
		for _, name := range []string{f.Name, f.Metric} {
			id, ok := godcgm.GetFieldID(name)
			if !ok {
				t.Errorf("field %d: go-dcgm does not know %s", f.ID, name)
				continue
			}
			if uint16(id) != f.ID {
				t.Errorf("field %d: go-dcgm says %s is %d", f.ID, name, id)
			}
		}
	}
}

// Without libdcgm.so.4 the real adapter fails Init cleanly (go-dcgm only
// dlopens) and refuses everything else; with it, it opens and closes.
func TestTheRealAdapterOnThisMachine(t *testing.T) {
	ctx := context.Background()
	b := dcgm.New(dcgm.Config{})
	if _, err := b.GPUs(ctx); !errors.Is(err, backend.ErrNotOpen) {
		t.Fatalf("GPUs before Init: %v", err)
	}
	_, err := b.Init(ctx)
	if err != nil {
		var missing *backend.MissingLibraryError
		if !errors.As(err, &missing) {
			t.Logf("libdcgm present but init failed: %v", err)
		}
		if _, err := b.GPUs(ctx); !errors.Is(err, backend.ErrNotOpen) {
			t.Fatalf("GPUs after a failed Init: %v", err)
		}
		return
	}
	gpus, err := b.GPUs(ctx)
	t.Logf("dcgm embedded: %d gpus, err %v", len(gpus), err)
	if err := b.Shutdown(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}
