package gpuprobe_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/gpuprobe"
	"github.com/aiobs/aiobs/gpuprobe/backend"
	"github.com/aiobs/aiobs/gpuprobe/fake"
)

// The fake panics on any call before a successful Init and after Shutdown,
// as the real libraries end the process. These tests first show that it
// does, then that Probe never triggers it.

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}

func TestTheFakePanicsLikeTheRealLibraries(t *testing.T) {
	ctx := context.Background()
	calls := map[string]func(b *fake.Backend){
		"GPUs":            func(b *fake.Backend) { _, _ = b.GPUs(ctx) },
		"ProfilingGroups": func(b *fake.Backend) { _, _ = b.ProfilingGroups(ctx, 0) },
		"Watch": func(b *fake.Backend) {
			_, _ = b.Watch(ctx, backend.WatchSpec{Entities: []backend.Entity{{Kind: backend.KindGPU}}, Fields: []uint16{150}})
		},
		"Unwatch":     func(b *fake.Backend) { _ = b.Unwatch(ctx, 1) },
		"Latest":      func(b *fake.Backend) { _, _ = b.Latest(ctx, backend.Entity{Kind: backend.KindGPU}, []uint16{150}) },
		"EngineStats": func(b *fake.Backend) { _, _ = b.EngineStats(ctx) },
		"Shutdown":    func(b *fake.Backend) { _ = b.Shutdown() },
	}
	names := make([]string, 0, len(calls))
	for n := range calls {
		names = append(names, n)
	}
	slices.Sort(names)

	for _, n := range names {
		t.Run(n+" before Init panics", func(t *testing.T) {
			sc, _ := fake.Load("datacenter")
			mustPanic(t, n, func() { calls[n](fake.New(sc)) })
		})
		t.Run(n+" after a failed Init panics", func(t *testing.T) {
			sc, _ := fake.Load("no-dcgm")
			b := fake.New(sc)
			if _, err := b.Init(ctx); err == nil {
				t.Fatal("Init of no-dcgm succeeded")
			}
			mustPanic(t, n, func() { calls[n](b) })
		})
		t.Run(n+" after Shutdown panics", func(t *testing.T) {
			sc, _ := fake.Load("datacenter")
			b := fake.New(sc)
			if _, err := b.Init(ctx); err != nil {
				t.Fatal(err)
			}
			if err := b.Shutdown(); err != nil {
				t.Fatal(err)
			}
			mustPanic(t, n, func() { calls[n](b) })
		})
	}
	t.Run("Init after Shutdown panics", func(t *testing.T) {
		sc, _ := fake.Load("datacenter")
		b := fake.New(sc)
		_, _ = b.Init(ctx)
		_ = b.Shutdown()
		mustPanic(t, "Init", func() { _, _ = b.Init(ctx) })
	})
	t.Run("an empty watch panics", func(t *testing.T) {
		sc, _ := fake.Load("datacenter")
		b := fake.New(sc)
		_, _ = b.Init(ctx)
		mustPanic(t, "Watch", func() { _, _ = b.Watch(ctx, backend.WatchSpec{}) })
	})
}

// initFailures are ways Init can fail on a real node.
func initFailures() map[string]error {
	return map[string]error{
		"library missing":    &backend.MissingLibraryError{Library: backend.LibraryDCGM},
		"engine unreachable": &backend.Error{Op: "init", Code: backend.CodeConnectionNotValid, Msg: "Host engine connection invalid/disconnected"},
		"built without cgo":  fmt.Errorf("dcgm: %w", backend.ErrUnavailable),
		"plain error":        errors.New("error starting nv-hostengine: DCGM initialization error"),
	}
}

func TestProbeNeverCallsTheBackendBeforeInitSucceeds(t *testing.T) {
	for _, name := range fake.Names() {
		for why, initErr := range initFailures() {
			t.Run(name+" with init failing: "+why, func(t *testing.T) {
				sc, _ := fake.Load(name)
				sc.InitErr = initErr
				b := fake.New(sc)
				var ops []string
				b.BeforeCall = func(op string) { ops = append(ops, op) }
				_, err := gpuprobe.Probe(context.Background(), b, gpuprobe.Options{Clock: b.Clock()})
				var nb *gpuprobe.NoBackendError
				if !errors.As(err, &nb) {
					t.Fatalf("err = %v (%T), want *NoBackendError", err, err)
				}
				if !errors.Is(err, initErr) {
					t.Errorf("the init error is not wrapped: %v", err)
				}
				if diff := cmp.Diff([]string{"Init"}, ops); diff != "" {
					t.Errorf("calls (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestProbeCleansUpAndNeverCallsAfterShutdownInEveryScenario(t *testing.T) {
	for _, name := range fake.Names() {
		t.Run(name, func(t *testing.T) {
			b, _, _ := probe(t, context.Background(), name, gpuprobe.Options{})
			checkClean(t, b.Stats())
		})
	}
}

// checkClean asserts that everything created was destroyed and that an
// opened backend was shut down exactly once with no watch left open.
func checkClean(t *testing.T, s fake.Stats) {
	t.Helper()
	if s.WatchesCreated != s.WatchesRemoved || s.GroupsCreated != s.GroupsDestroyed || s.FieldGroupsCreated != s.FieldGroupsDestroyed {
		t.Errorf("leak: %+v", s)
	}
	if s.OpenAtShutdown != 0 {
		t.Errorf("%d watches still open at Shutdown", s.OpenAtShutdown)
	}
	if s.Inits > 0 && s.Shutdowns != 1 {
		t.Errorf("Shutdown called %d times after a successful Init", s.Shutdowns)
	}
}

func TestProbeCleansUpWhenCancelledAtAnyCall(t *testing.T) {
	for _, name := range []string{"datacenter", "mig", "mixed", "profiler-busy", "consumer", "nvml"} {
		t.Run(name, func(t *testing.T) {
			full, _, err := probe(t, context.Background(), name, gpuprobe.Options{})
			if err != nil {
				t.Fatal(err)
			}
			total := full.Stats().Calls
			for k := 1; k <= total; k++ {
				sc, _ := fake.Load(name)
				b := fake.New(sc)
				ctx, cancel := context.WithCancel(context.Background())
				n := 0
				b.BeforeCall = func(string) {
					if n++; n == k {
						cancel() // an interrupt arrives during call k
					}
				}
				_, err := gpuprobe.Probe(ctx, b, gpuprobe.Options{Clock: b.Clock()})
				cancel()
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Errorf("cancel at call %d: err = %v, want context.Canceled", k, err)
				}
				s := b.Stats()
				checkClean(t, s)
				if t.Failed() {
					t.Fatalf("cancel at call %d of %d: %+v", k, total, s)
				}
			}
		})
	}
}

func TestProbeStopsAtTheWindowWithARealClockTooWhenCancelled(t *testing.T) {
	sc, _ := fake.Load("datacenter")
	b := fake.New(sc)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	// The system clock: Probe must wake from its poll sleep on cancel.
	_, err := gpuprobe.Probe(ctx, b, gpuprobe.Options{Window: time.Hour})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	checkClean(t, b.Stats())
}

func TestRequire(t *testing.T) {
	tests := []struct {
		name     string
		scenario string
		require  []string
		missing  []string
	}{
		{"a datacenter node has every capability but mig", "datacenter", []string{"dcp", "nvlink", "ecc", "xid", "throttle"}, nil},
		{"a datacenter node lacks mig", "datacenter", []string{"mig", "dcp"}, []string{"mig"}},
		{"a consumer card lacks dcp, ecc and nvlink", "consumer", []string{"xid", "nvlink", "ecc", "dcp"}, []string{"dcp", "ecc", "nvlink"}},
		{"a mig node has dcp through its instances", "mig", []string{"mig", "dcp"}, nil},
		{"a mixed node lacks dcp because gpu 0 lacks it", "mixed", []string{"dcp"}, []string{"dcp"}},
		{"a busy profiler takes dcp away", "profiler-busy", []string{"dcp", "throttle"}, []string{"dcp"}},
		{"a repeated requirement is reported once", "consumer", []string{"dcp", "dcp"}, []string{"dcp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, rep, err := probe(t, context.Background(), tt.scenario, gpuprobe.Options{Require: tt.require})
			checkClean(t, b.Stats())
			if tt.missing == nil {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				return
			}
			var mc *gpuprobe.MissingCapabilityError
			if !errors.As(err, &mc) {
				t.Fatalf("err = %v (%T), want *MissingCapabilityError", err, err)
			}
			if diff := cmp.Diff(tt.missing, mc.Missing); diff != "" {
				t.Errorf("missing (-want +got):\n%s", diff)
			}
			if len(rep.GPUs) == 0 {
				t.Error("the report is empty; it must be complete so the CLI can still write it")
			}
		})
	}
}

func TestBadOptionsNeverTouchTheBackend(t *testing.T) {
	sc, _ := fake.Load("datacenter")
	b := fake.New(sc)
	_, err := gpuprobe.Probe(context.Background(), b, gpuprobe.Options{Require: []string{"warp-drive"}})
	if err == nil {
		t.Fatal("Probe accepted an unknown capability")
	}
	if s := b.Stats(); s.Calls != 0 {
		t.Errorf("backend called %d times", s.Calls)
	}
}

func TestProbeWithAFieldSubset(t *testing.T) {
	b, rep, err := probe(t, context.Background(), "mig", gpuprobe.Options{Fields: []uint16{1001, 252, 203}, Window: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	checkClean(t, b.Stats())
	var got []string
	for _, f := range rep.GPUs[0].Fields {
		got = append(got, fmt.Sprintf("gpu %d %s", f.ID, f.Status))
	}
	for _, f := range rep.GPUs[0].Instances[0].Fields {
		got = append(got, fmt.Sprintf("instance %d %s", f.ID, f.Status))
	}
	want := []string{
		"gpu 203 not_supported", "gpu 252 available", "gpu 1001 blank",
		"instance 252 available", "instance 1001 available",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"DCGM_FI_DEV_FB_USED", "DCGM_FI_PROF_GR_ENGINE_ACTIVE"}, rep.Capabilities.Metrics); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

func TestProbeShutsDownAnOpenedBackendEvenWhenCancelledFirst(t *testing.T) {
	sc, _ := fake.Load("datacenter")
	b := fake.New(sc)
	if _, err := b.Init(context.Background()); err != nil { // as Open leaves it
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := gpuprobe.Probe(ctx, b, gpuprobe.Options{Clock: b.Clock()})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if s := b.Stats(); s.Shutdowns != 1 {
		t.Errorf("Shutdown called %d times, want 1", s.Shutdowns)
	}
}
