// Package guard is the state machine in front of the cgo adapters. The C
// libraries behind go-dcgm and go-nvml end the process on any call before a
// successful initialisation (the dynamic loader aborts; recover cannot
// help), so the adapters reach C only through a Lib, and only Guard.Init can
// create a Lib: before Init succeeds, and after Shutdown, there is no Lib to
// call and every method returns backend.ErrNotOpen.
//
// The package is pure Go so the state machine is tested without cgo.
package guard

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/aiobs/aiobs/gpuprobe/backend"
)

// Lib is an initialised library. Guard serialises calls to it.
type Lib interface {
	GPUs() ([]backend.GPU, error)
	ProfilingGroups(gpu uint) ([]backend.MetricGroup, error)
	Watch(spec backend.WatchSpec) (backend.WatchID, error)
	Unwatch(id backend.WatchID) error
	Latest(e backend.Entity, fields []uint16) ([]backend.Sample, error)
	EngineStats() (backend.EngineStats, error)
	// Shutdown releases everything still held, then unloads the library.
	Shutdown() error
}

// InitFunc loads and initialises a library; it is the only code that may
// touch C before initialisation succeeded.
type InitFunc func() (Lib, error)

type state uint8

const (
	stateNew state = iota
	stateOpen
	stateClosed
)

// Guard implements the gpuprobe Backend methods over a Lib.
type Guard struct {
	name string
	info backend.Info
	init InitFunc
	// exclusive is shared by every Guard of one library: go-dcgm and
	// go-nvml keep one process-wide handle, and a second Init (in another
	// DCGM mode) would silently share the first handle's mode and refcount.
	exclusive *atomic.Bool

	mu    sync.Mutex
	state state
	lib   Lib
}

// New returns a Guard in the "not initialised" state.
func New(name string, info backend.Info, exclusive *atomic.Bool, init InitFunc) *Guard {
	return &Guard{name: name, info: info, init: init, exclusive: exclusive}
}

// Name is the backend name; it never touches the library.
func (g *Guard) Name() string { return g.name }

// Init initialises the library once; on an open Guard it returns the same
// Info. After Shutdown it fails.
func (g *Guard) Init(ctx context.Context) (backend.Info, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch g.state {
	case stateOpen:
		return g.info, nil
	case stateClosed:
		return backend.Info{}, fmt.Errorf("%s init: %w: already shut down", g.name, backend.ErrNotOpen)
	}
	if err := ctx.Err(); err != nil {
		return backend.Info{}, err
	}
	if !g.exclusive.CompareAndSwap(false, true) {
		return backend.Info{}, fmt.Errorf("%s init: another %s backend is open in this process", g.name, g.name)
	}
	lib, err := g.init()
	if err != nil {
		g.exclusive.Store(false)
		return backend.Info{}, err
	}
	if lib == nil {
		g.exclusive.Store(false)
		return backend.Info{}, fmt.Errorf("%s init: no library", g.name)
	}
	g.lib, g.state = lib, stateOpen
	return g.info, nil
}

// Shutdown releases the library. It is a no-op error on a Guard that never
// opened, and fails when called twice.
func (g *Guard) Shutdown() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state != stateOpen {
		return fmt.Errorf("%s shutdown: %w", g.name, backend.ErrNotOpen)
	}
	err := g.lib.Shutdown()
	g.lib, g.state = nil, stateClosed
	g.exclusive.Store(false)
	return err
}

// lock takes the mutex and checks that the library may be called; on nil
// the caller must call g.mu.Unlock.
func (g *Guard) lock(ctx context.Context, op string) error {
	g.mu.Lock()
	if g.state != stateOpen {
		g.mu.Unlock()
		return fmt.Errorf("%s %s: %w", g.name, op, backend.ErrNotOpen)
	}
	if err := ctx.Err(); err != nil {
		g.mu.Unlock()
		return err
	}
	return nil
}

// GPUs lists the GPUs.
func (g *Guard) GPUs(ctx context.Context) ([]backend.GPU, error) {
	if err := g.lock(ctx, "gpus"); err != nil {
		return nil, err
	}
	defer g.mu.Unlock()
	return g.lib.GPUs()
}

// ProfilingGroups returns one GPU's profiling metric groups.
func (g *Guard) ProfilingGroups(ctx context.Context, gpu uint) ([]backend.MetricGroup, error) {
	if err := g.lock(ctx, "profiling groups"); err != nil {
		return nil, err
	}
	defer g.mu.Unlock()
	return g.lib.ProfilingGroups(gpu)
}

// Watch starts a watch. Empty entity or field lists are refused here:
// go-dcgm indexes the first element of the field slice.
func (g *Guard) Watch(ctx context.Context, spec backend.WatchSpec) (backend.WatchID, error) {
	if len(spec.Entities) == 0 || len(spec.Fields) == 0 {
		return 0, &backend.Error{Op: "watch", Code: backend.CodeBadParam, Msg: "no entities or no fields"}
	}
	if err := g.lock(ctx, "watch"); err != nil {
		return 0, err
	}
	defer g.mu.Unlock()
	return g.lib.Watch(spec)
}

// Unwatch stops a watch.
func (g *Guard) Unwatch(ctx context.Context, id backend.WatchID) error {
	if err := g.lock(ctx, "unwatch"); err != nil {
		return err
	}
	defer g.mu.Unlock()
	return g.lib.Unwatch(id)
}

// Latest reads the latest values; an empty field list is refused here.
func (g *Guard) Latest(ctx context.Context, e backend.Entity, fields []uint16) ([]backend.Sample, error) {
	if len(fields) == 0 {
		return nil, &backend.Error{Op: "latest", Code: backend.CodeBadParam, Msg: "no fields"}
	}
	if err := g.lock(ctx, "latest"); err != nil {
		return nil, err
	}
	defer g.mu.Unlock()
	return g.lib.Latest(e, fields)
}

// EngineStats reads the host engine's cost.
func (g *Guard) EngineStats(ctx context.Context) (backend.EngineStats, error) {
	if err := g.lock(ctx, "engine stats"); err != nil {
		return backend.EngineStats{}, err
	}
	defer g.mu.Unlock()
	return g.lib.EngineStats()
}
