// Package gpuprobe measures which DCGM fields a GPU node really reports and
// writes the result as a capabilities report (package report) that aiobs
// render reads, so GPU panels use only fields that have data.
//
// dcgm-exporter silently drops a series when DCGM answers with a sentinel
// (profiling fields on consumer cards, per-instance fields under MIG, NVLink
// on PCIe cards, ECC on GeForce, fields held by another profiler), and it
// decides profiling support from GPU 0 alone. Probe watches every field of
// the field set (Fields) on every GPU and MIG instance for a short window,
// classifies each one, checks profiling per GPU model, records timing and
// host-engine cost, and derives report.Capabilities.
//
// In: a Backend (Open picks DCGM standalone, DCGM embedded or NVML; tests
// use gpuprobe/fake) and Options. Out: a report.Report. The package must not
// know about dashboards or the CLI, and never imports go-dcgm or go-nvml:
// those live behind build tags in gpuprobe/dcgm and gpuprobe/nvml, so
// CGO_ENABLED=0 builds work.
//
// Safety: go-dcgm and go-nvml load their C libraries at run time, and any
// call but the initialiser before a successful initialisation ends the
// process. Probe calls nothing but Name and Init until Init has succeeded,
// never calls after Shutdown, and the adapters refuse such calls themselves.
// Probe removes every watch it made and shuts the backend down before it
// returns, also when ctx is cancelled (interrupt).
//
// Exit codes for the aiobs gpuprobe command (the CLI maps errors with
// errors.As):
//
//	0  report written
//	1  usage error, bad options, interrupted, or the report could not be written
//	3  no backend could be opened (*NoBackendError)
//	4  a backend opened but found no GPUs (*NoGPUError)
//	5  a required capability is missing (*MissingCapabilityError; the report
//	   is complete and should still be written)
package gpuprobe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aiobs/aiobs/gpuprobe/backend"
	"github.com/aiobs/aiobs/gpuprobe/report"
)

// Backend is the seam to DCGM, NVML or the fake. No go-dcgm or go-nvml type
// crosses it.
//
// Rules every implementation follows, because the real libraries end the
// process otherwise: Name may be called at any time; every other method
// returns an error wrapping backend.ErrNotOpen unless Init has succeeded and
// Shutdown has not been called. Init on an open backend is a no-op that
// returns the same Info, so a backend from Open can be handed to Probe.
// Methods are not called concurrently.
type Backend interface {
	// Name is "dcgm-embedded", "dcgm-standalone" or "nvml".
	Name() string
	// Init loads the library and connects; the only call allowed first.
	Init(ctx context.Context) (backend.Info, error)
	// Shutdown releases whatever the backend still holds and unloads.
	Shutdown() error
	// GPUs lists the GPUs with their MIG instances.
	GPUs(ctx context.Context) ([]backend.GPU, error)
	// ProfilingGroups returns the profiling metric groups of one GPU; a
	// *backend.Error carries the DCGM code when profiling is unavailable.
	ProfilingGroups(ctx context.Context, gpu uint) ([]backend.MetricGroup, error)
	// Watch starts sampling; all-or-nothing, as DCGM.
	Watch(ctx context.Context, spec backend.WatchSpec) (backend.WatchID, error)
	// Unwatch stops a watch and destroys its groups.
	Unwatch(ctx context.Context, id backend.WatchID) error
	// Latest reads the latest value of each field on one entity.
	Latest(ctx context.Context, e backend.Entity, fields []uint16) ([]backend.Sample, error)
	// EngineStats reads the host engine's CPU and memory cost.
	EngineStats(ctx context.Context) (backend.EngineStats, error)
}

// Clock is the time source of a probe. Reports hold only times read from
// it, so an injected clock makes them deterministic.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, returning ctx.Err() then.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real clock.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Defaults for Options.
const (
	DefaultWindow   = 10 * time.Second
	DefaultInterval = time.Second
)

// Options tune a probe. The zero value probes every field for DefaultWindow.
type Options struct {
	// Fields are the field IDs to probe; nil means Fields(). Every ID must be
	// in Fields(): gpuprobe needs the type and entity level of each.
	Fields []uint16
	// Window is how long fields are sampled (DefaultWindow).
	Window time.Duration
	// Interval is the update interval asked of the host engine
	// (DefaultInterval).
	Interval time.Duration
	// Poll is the time between polls of all fields (Interval/4), so the
	// effective update interval can be measured.
	Poll time.Duration
	// Require names capabilities (report.CapabilityNames) that must be
	// present on the node; Probe returns *MissingCapabilityError otherwise.
	Require []string
	// Clock is the time source (SystemClock).
	Clock Clock
}

// defaults fills unset options and rejects bad ones.
func (o Options) defaults() (Options, error) {
	if o.Window == 0 {
		o.Window = DefaultWindow
	}
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Poll == 0 {
		o.Poll = o.Interval / 4
	}
	if o.Clock == nil {
		o.Clock = SystemClock()
	}
	switch {
	case o.Window < 0:
		return o, fmt.Errorf("gpuprobe options: window %v is negative", o.Window)
	case o.Interval < time.Millisecond:
		return o, fmt.Errorf("gpuprobe options: interval %v is below 1ms", o.Interval)
	case o.Poll < time.Millisecond:
		return o, fmt.Errorf("gpuprobe options: poll %v is below 1ms", o.Poll)
	}
	if o.Fields == nil {
		for _, f := range catalog {
			o.Fields = append(o.Fields, f.ID)
		}
	}
	if len(o.Fields) == 0 {
		return o, errors.New("gpuprobe options: no fields to probe")
	}
	var unknown []string
	for _, id := range o.Fields {
		if _, ok := FieldByID(id); !ok {
			unknown = append(unknown, fmt.Sprint(id))
		}
	}
	if len(unknown) > 0 {
		return o, fmt.Errorf("gpuprobe options: field ids %s are not in the gpu field set", strings.Join(unknown, ", "))
	}
	o.Fields = slices.Clone(o.Fields)
	slices.Sort(o.Fields)
	o.Fields = slices.Compact(o.Fields)
	for _, name := range o.Require {
		if !slices.Contains(report.CapabilityNames(), name) {
			return o, fmt.Errorf("gpuprobe options: unknown capability %q; want one of %s",
				name, strings.Join(report.CapabilityNames(), ", "))
		}
	}
	return o, nil
}

// Validate reports whether the options are usable, without a backend: the
// CLI checks them before Open.
func (o Options) Validate() error {
	_, err := o.defaults()
	return err
}

// Probe measures the node behind b and returns the report.
//
// Probe owns b: it calls Init (a no-op when b came from Open), and before
// returning it removes every watch it made and calls Shutdown, also on
// error and when ctx is cancelled. The one exception is an options error:
// it is returned before b is touched, and b stays the caller's to shut
// down (call Options.Validate before Open to avoid the case).
//
// The report is complete when err is nil or a *MissingCapabilityError.
// Otherwise it is empty and err is a *NoBackendError (Init failed), a
// *NoGPUError, an options error, or a wrapped ctx.Err().
func Probe(ctx context.Context, b Backend, opts Options) (report.Report, error) {
	o, err := opts.defaults()
	if err != nil {
		return report.Report{}, err
	}
	p := &prober{b: b, opts: o, clock: o.Clock}
	return p.run(ctx)
}
