package guard

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/gpuprobe/backend"
)

// lib records calls; it exists only after a successful init, like the C
// library it stands for.
type lib struct {
	calls    []string
	shutdown bool
}

func (l *lib) rec(op string) {
	if l.shutdown {
		panic("call after shutdown: " + op)
	}
	l.calls = append(l.calls, op)
}

func (l *lib) GPUs() ([]backend.GPU, error) { l.rec("gpus"); return nil, nil }
func (l *lib) ProfilingGroups(uint) ([]backend.MetricGroup, error) {
	l.rec("profiling")
	return nil, nil
}
func (l *lib) Watch(backend.WatchSpec) (backend.WatchID, error) { l.rec("watch"); return 1, nil }
func (l *lib) Unwatch(backend.WatchID) error                    { l.rec("unwatch"); return nil }
func (l *lib) Latest(backend.Entity, []uint16) ([]backend.Sample, error) {
	l.rec("latest")
	return nil, nil
}
func (l *lib) EngineStats() (backend.EngineStats, error) {
	l.rec("engine")
	return backend.EngineStats{}, nil
}
func (l *lib) Shutdown() error { l.rec("shutdown"); l.shutdown = true; return nil }

// every calls each method but Init and Shutdown and returns their errors.
func every(ctx context.Context, g *Guard) []error {
	spec := backend.WatchSpec{Entities: []backend.Entity{{Kind: backend.KindGPU}}, Fields: []uint16{150}}
	_, e1 := g.GPUs(ctx)
	_, e2 := g.ProfilingGroups(ctx, 0)
	_, e3 := g.Watch(ctx, spec)
	e4 := g.Unwatch(ctx, 1)
	_, e5 := g.Latest(ctx, backend.Entity{Kind: backend.KindGPU}, []uint16{150})
	_, e6 := g.EngineStats(ctx)
	return []error{e1, e2, e3, e4, e5, e6}
}

func allNotOpen(t *testing.T, errs []error) {
	t.Helper()
	for i, err := range errs {
		if !errors.Is(err, backend.ErrNotOpen) {
			t.Errorf("call %d: err = %v, want ErrNotOpen", i, err)
		}
	}
}

func TestGuard(t *testing.T) {
	ctx := context.Background()

	t.Run("before init nothing reaches the library", func(t *testing.T) {
		var flag atomic.Bool
		inits := 0
		g := New("x", backend.Info{Name: "x"}, &flag, func() (Lib, error) { inits++; return &lib{}, nil })
		allNotOpen(t, every(ctx, g))
		if err := g.Shutdown(); !errors.Is(err, backend.ErrNotOpen) {
			t.Errorf("Shutdown before Init: %v", err)
		}
		if inits != 0 {
			t.Errorf("init ran %d times", inits)
		}
	})

	t.Run("a failed init leaves the guard closed and releases the process lock", func(t *testing.T) {
		var flag atomic.Bool
		boom := errors.New("libx.so not found")
		g := New("x", backend.Info{}, &flag, func() (Lib, error) { return nil, boom })
		if _, err := g.Init(ctx); !errors.Is(err, boom) {
			t.Fatalf("Init: %v", err)
		}
		allNotOpen(t, every(ctx, g))
		if flag.Load() {
			t.Error("process lock still held after a failed init")
		}
	})

	t.Run("an open guard passes calls through and init again is a no-op", func(t *testing.T) {
		var flag atomic.Bool
		l := &lib{}
		inits := 0
		g := New("x", backend.Info{Name: "x", Address: "a"}, &flag, func() (Lib, error) { inits++; return l, nil })
		for range 2 {
			info, err := g.Init(ctx)
			if err != nil || info.Address != "a" {
				t.Fatalf("Init = %+v, %v", info, err)
			}
		}
		for _, err := range every(ctx, g) {
			if err != nil {
				t.Error(err)
			}
		}
		if err := g.Shutdown(); err != nil {
			t.Fatal(err)
		}
		want := []string{"gpus", "profiling", "watch", "unwatch", "latest", "engine", "shutdown"}
		if diff := cmp.Diff(want, l.calls); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		if inits != 1 {
			t.Errorf("init ran %d times", inits)
		}
	})

	t.Run("after shutdown nothing reaches the library and init fails", func(t *testing.T) {
		var flag atomic.Bool
		g := New("x", backend.Info{}, &flag, func() (Lib, error) { return &lib{}, nil })
		if _, err := g.Init(ctx); err != nil {
			t.Fatal(err)
		}
		if err := g.Shutdown(); err != nil {
			t.Fatal(err)
		}
		allNotOpen(t, every(ctx, g)) // lib panics if reached
		if err := g.Shutdown(); !errors.Is(err, backend.ErrNotOpen) {
			t.Errorf("second Shutdown: %v", err)
		}
		if _, err := g.Init(ctx); !errors.Is(err, backend.ErrNotOpen) {
			t.Errorf("Init after Shutdown: %v", err)
		}
	})

	t.Run("only one guard per library is open in a process", func(t *testing.T) {
		var flag atomic.Bool
		a := New("x", backend.Info{}, &flag, func() (Lib, error) { return &lib{}, nil })
		b := New("x", backend.Info{}, &flag, func() (Lib, error) { return &lib{}, nil })
		if _, err := a.Init(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Init(ctx); err == nil {
			t.Error("a second guard opened while the first is open")
		}
		_ = a.Shutdown()
		if _, err := b.Init(ctx); err != nil {
			t.Errorf("after the first shut down: %v", err)
		}
		_ = b.Shutdown()
	})

	t.Run("empty watches and reads never reach the library", func(t *testing.T) {
		var flag atomic.Bool
		l := &lib{}
		g := New("x", backend.Info{}, &flag, func() (Lib, error) { return l, nil })
		if _, err := g.Init(ctx); err != nil {
			t.Fatal(err)
		}
		defer g.Shutdown()
		if _, err := g.Watch(ctx, backend.WatchSpec{Entities: []backend.Entity{{}}}); err == nil {
			t.Error("watch without fields accepted")
		}
		if _, err := g.Watch(ctx, backend.WatchSpec{Fields: []uint16{1}}); err == nil {
			t.Error("watch without entities accepted")
		}
		if _, err := g.Latest(ctx, backend.Entity{}, nil); err == nil {
			t.Error("read without fields accepted")
		}
		if len(l.calls) != 0 {
			t.Errorf("library called: %v", l.calls)
		}
	})

	t.Run("a cancelled context stops calls before the library", func(t *testing.T) {
		var flag atomic.Bool
		l := &lib{}
		g := New("x", backend.Info{}, &flag, func() (Lib, error) { return l, nil })
		if _, err := g.Init(ctx); err != nil {
			t.Fatal(err)
		}
		defer g.Shutdown()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		for i, err := range every(cctx, g) {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("call %d: %v", i, err)
			}
		}
		if len(l.calls) != 0 {
			t.Errorf("library called: %v", l.calls)
		}
	})
}
