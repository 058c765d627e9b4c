// Package fake is a scripted gpuprobe backend for tests: named scenarios
// (Names, Load) describe GPUs, MIG instances, profiling support, per-field
// value scripts, watch failures and host-engine figures, and Backend plays
// them against a fixed Clock, so reports are deterministic.
//
// The fake is strict where the real libraries are fatal. Any call but Name
// and Init before a successful Init, and any call at all after Shutdown,
// panics, as calling libdcgm or libnvidia-ml then ends the process. Watch
// panics on an empty entity or field list (go-dcgm indexes the first
// field). It records groups, field groups and watches created and destroyed
// (Stats) so tests can prove cleanup, and enforces DCGM's 64-group limit.
//
// Values come out in DCGM's real encodings, sentinels included, so
// gpuprobe's classification runs on the same path as with DCGM.
package fake

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/aiobs/aiobs/gpuprobe/backend"
)

// Epoch is the fixed start of every fake Clock.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Clock is a manual clock: Sleep and the backend's scripted costs advance
// it, nothing else does.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at Epoch.
func NewClock() *Clock { return &Clock{t: Epoch} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Sleep advances the clock by d unless ctx is done.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Stats counts what a Backend did.
type Stats struct {
	Inits                int // successful Init calls
	Shutdowns            int
	GroupsCreated        int
	GroupsDestroyed      int
	FieldGroupsCreated   int
	FieldGroupsDestroyed int
	WatchesCreated       int
	WatchesRemoved       int
	// OpenAtShutdown is the number of watches still open when Shutdown was
	// called: the caller leaked them (the fake does not clean up for it).
	OpenAtShutdown int
	Calls          int // every method call but Name
}

type state uint8

const (
	stateNew state = iota
	stateOpen
	stateClosed
)

// maxGroups is DCGM_MAX_NUM_GROUPS.
const maxGroups = 64

type watch struct {
	spec  backend.WatchSpec
	start time.Time
}

// Backend plays a Scenario. It implements gpuprobe.Backend.
type Backend struct {
	sc    Scenario
	clock *Clock

	// BeforeCall, when set, runs at the start of every method but Name, with
	// the method's name; tests use it to cancel a context mid-probe.
	BeforeCall func(op string)

	mu      sync.Mutex
	state   state
	watches map[backend.WatchID]*watch
	next    backend.WatchID
	latest  int // Latest calls, indexes Scenario.Latency
	engine  int // EngineStats calls
	stats   Stats
}

// New returns a backend for sc with a fresh Clock at Epoch.
func New(sc Scenario) *Backend {
	return &Backend{sc: sc, clock: NewClock(), watches: map[backend.WatchID]*watch{}}
}

// Clock is the backend's clock; pass it as gpuprobe.Options.Clock.
func (b *Backend) Clock() *Clock { return b.clock }

// Stats returns a copy of the counters.
func (b *Backend) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// Name returns the scenario's backend name. It is safe at any time.
func (b *Backend) Name() string { return b.sc.Backend }

// enter is the start of every method but Name and Init: the hook, the
// state check (panicking like the real library would crash), the context.
func (b *Backend) enter(ctx context.Context, op string) error {
	if b.BeforeCall != nil {
		b.BeforeCall(op)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stats.Calls++
	switch b.state {
	case stateNew:
		panic(fmt.Sprintf("fake %s: %s called before a successful Init", b.sc.Name, op))
	case stateClosed:
		panic(fmt.Sprintf("fake %s: %s called after Shutdown", b.sc.Name, op))
	}
	if ctx != nil {
		return ctx.Err()
	}
	return nil
}

// Init opens the backend, or fails with Scenario.InitErr. It panics after
// Shutdown and is a no-op on an open backend.
func (b *Backend) Init(ctx context.Context) (backend.Info, error) {
	if b.BeforeCall != nil {
		b.BeforeCall("Init")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stats.Calls++
	info := backend.Info{Name: b.sc.Backend, Address: b.sc.Address}
	switch b.state {
	case stateOpen:
		return info, nil
	case stateClosed:
		panic(fmt.Sprintf("fake %s: Init called after Shutdown", b.sc.Name))
	}
	if err := ctx.Err(); err != nil {
		return backend.Info{}, err
	}
	b.clock.Advance(b.sc.InitCost)
	if b.sc.InitErr != nil {
		return backend.Info{}, b.sc.InitErr
	}
	b.stats.Inits++
	b.state = stateOpen
	return info, nil
}

// Shutdown closes the backend and records watches left open.
func (b *Backend) Shutdown() error {
	if err := b.enter(context.Background(), "Shutdown"); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stats.Shutdowns++
	b.stats.OpenAtShutdown = len(b.watches)
	b.state = stateClosed
	return nil
}

// GPUs returns the scenario's GPUs.
func (b *Backend) GPUs(ctx context.Context) ([]backend.GPU, error) {
	if err := b.enter(ctx, "GPUs"); err != nil {
		return nil, err
	}
	out := slices.Clone(b.sc.GPUs)
	for i := range out {
		out[i].Instances = slices.Clone(out[i].Instances)
	}
	return out, nil
}

// ProfilingGroups returns the groups scripted for the GPU's model.
func (b *Backend) ProfilingGroups(ctx context.Context, gpu uint) ([]backend.MetricGroup, error) {
	if err := b.enter(ctx, "ProfilingGroups"); err != nil {
		return nil, err
	}
	g, ok := b.gpu(gpu)
	if !ok {
		return nil, &backend.Error{Op: "profiling", Code: backend.CodeBadParam, Msg: fmt.Sprintf("no gpu %d", gpu)}
	}
	p, ok := b.sc.Profiling[g.Model]
	if !ok {
		return nil, &backend.Error{Op: "profiling", Code: backend.CodeModuleNotLoaded, Msg: msgModuleNotLoaded}
	}
	if p.Err != nil {
		return nil, p.Err
	}
	out := slices.Clone(p.Groups)
	for i := range out {
		out[i].Fields = slices.Clone(out[i].Fields)
	}
	return out, nil
}

// Watch creates a group and a field group and starts the watch, or fails
// as a whole when any field has a scripted watch error.
func (b *Backend) Watch(ctx context.Context, spec backend.WatchSpec) (backend.WatchID, error) {
	if err := b.enter(ctx, "Watch"); err != nil {
		return 0, err
	}
	if len(spec.Entities) == 0 || len(spec.Fields) == 0 {
		panic(fmt.Sprintf("fake %s: Watch with %d entities and %d fields", b.sc.Name, len(spec.Entities), len(spec.Fields)))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	start := b.clock.Now()
	b.clock.Advance(b.sc.WatchCost)
	b.stats.FieldGroupsCreated++
	b.stats.GroupsCreated++
	fail := func(err error) (backend.WatchID, error) {
		b.stats.GroupsDestroyed++
		b.stats.FieldGroupsDestroyed++
		return 0, err
	}
	if b.stats.GroupsCreated-b.stats.GroupsDestroyed > maxGroups {
		return fail(&backend.Error{Op: "watch", Code: backend.CodeMaxLimit, Msg: "Max limit reached for the object"})
	}
	if b.sc.WatchErr != nil {
		for _, f := range spec.Fields {
			if err := b.sc.WatchErr(f); err != nil {
				return fail(err)
			}
		}
	}
	b.next++
	b.watches[b.next] = &watch{
		spec:  backend.WatchSpec{Entities: slices.Clone(spec.Entities), Fields: slices.Clone(spec.Fields), Every: spec.Every},
		start: start,
	}
	b.stats.WatchesCreated++
	return b.next, nil
}

// Unwatch stops a watch and destroys its groups.
func (b *Backend) Unwatch(ctx context.Context, id backend.WatchID) error {
	if err := b.enter(ctx, "Unwatch"); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.watches[id]; !ok {
		return &backend.Error{Op: "unwatch", Code: backend.CodeBadParam, Msg: fmt.Sprintf("unknown watch %d", id)}
	}
	delete(b.watches, id)
	b.stats.WatchesRemoved++
	b.stats.GroupsDestroyed++
	b.stats.FieldGroupsDestroyed++
	return nil
}

// Latest returns each field's latest value per its script: NOT_WATCHED
// for fields no watch covers, a BLANK sentinel before the first sample.
func (b *Backend) Latest(ctx context.Context, e backend.Entity, fields []uint16) ([]backend.Sample, error) {
	if err := b.enter(ctx, "Latest"); err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		panic(fmt.Sprintf("fake %s: Latest with no fields", b.sc.Name))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if n := len(b.sc.Latency); n > 0 {
		b.clock.Advance(b.sc.Latency[b.latest%n])
	}
	b.latest++
	now := b.clock.Now()

	var g backend.GPU
	if e.Kind != backend.KindGlobal {
		var ok bool
		if g, ok = b.owner(e); !ok {
			return nil, &backend.Error{Op: "latest", Code: backend.CodeBadParam, Msg: fmt.Sprintf("no %s %d", e.Kind, e.ID)}
		}
	}
	out := make([]backend.Sample, len(fields))
	for i, f := range fields {
		w := b.covering(e, f)
		if w == nil {
			out[i] = backend.Sample{Field: f, Type: fieldType(f), Status: backend.CodeNotWatched}
			continue
		}
		var sc Script
		if b.sc.Values != nil {
			sc = b.sc.Values(g, e, f)
		}
		out[i] = sc.sample(f, w, now, b.sc.NoTimestamps)
	}
	return out, nil
}

// EngineStats returns the scenario's n-th engine reading.
func (b *Backend) EngineStats(ctx context.Context) (backend.EngineStats, error) {
	if err := b.enter(ctx, "EngineStats"); err != nil {
		return backend.EngineStats{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.engine
	b.engine++
	if b.sc.Engine == nil {
		return backend.EngineStats{}, fmt.Errorf("no engine figures scripted: %w", backend.ErrUnsupported)
	}
	return b.sc.Engine(n)
}

func (b *Backend) gpu(id uint) (backend.GPU, bool) {
	for _, g := range b.sc.GPUs {
		if g.ID == id {
			return g, true
		}
	}
	return backend.GPU{}, false
}

// owner finds the GPU an entity belongs to.
func (b *Backend) owner(e backend.Entity) (backend.GPU, bool) {
	for _, g := range b.sc.GPUs {
		if e.Kind == backend.KindGPU && g.ID == e.ID {
			return g, true
		}
		for _, in := range g.Instances {
			if in.Entity == e {
				return g, true
			}
		}
	}
	return backend.GPU{}, false
}

// covering finds the oldest watch that samples field f on entity e. A
// global field is covered by any watch that lists it: DCGM watches global
// fields node-wide.
func (b *Backend) covering(e backend.Entity, f uint16) *watch {
	var best *watch
	var bestID backend.WatchID
	for id, w := range b.watches {
		if !slices.Contains(w.spec.Fields, f) {
			continue
		}
		if e.Kind != backend.KindGlobal && !slices.Contains(w.spec.Entities, e) {
			continue
		}
		if best == nil || id < bestID {
			best, bestID = w, id
		}
	}
	return best
}

// Sentinel is a DCGM "no value" encoding.
type Sentinel uint8

// Sentinels.
const (
	NoSentinel Sentinel = iota
	Blank
	NotFound
	NotSupported
	NotPermissioned
)

// Script says what one field reads like on one entity. The zero Script is
// an unscripted field and reads as a NOT_SUPPORTED sentinel.
type Script struct {
	// Value gives the k-th sample's value; nil means the field is not
	// scripted.
	Value func(k int) float64
	// Text is the value of a string field.
	Text string
	// Sentinel, when set, replaces every value.
	Sentinel Sentinel
	// Int32 encodes integer sentinels in DCGM's 32-bit family, widened.
	Int32 bool
	// Status, when non-zero, is the per-value dcgmReturn_t of every read.
	Status int
	// Delay is when the first sample appears after the watch started
	// (profiling needs one profiling period).
	Delay time.Duration
	// Every overrides the watch's update interval.
	Every time.Duration
}

func (s Script) sample(f uint16, w *watch, now time.Time, noTS bool) backend.Sample {
	out := backend.Sample{Field: f, Type: fieldType(f)}
	if s.Status != 0 {
		out.Status = s.Status
		return out
	}
	every := cmpOr(s.Every, w.spec.Every, time.Second)
	since := now.Sub(w.start) - s.Delay
	if since < 0 {
		return encode(out, Blank, false)
	}
	k := int(since / every)
	if !noTS {
		out.TS = w.start.Add(s.Delay + time.Duration(k)*every).UnixMicro()
	}
	switch {
	case s.Sentinel != NoSentinel:
		return encode(out, s.Sentinel, s.Int32)
	case out.Type == backend.TypeString && s.Text != "":
		out.Str = s.Text
		return out
	case s.Value == nil:
		return encode(out, NotSupported, s.Int32)
	}
	v := s.Value(k)
	if out.Type == backend.TypeDouble {
		out.Float = v
	} else {
		out.Int = int64(math.Round(v))
	}
	return out
}

// encode puts a sentinel in the value, in the field type's encoding.
func encode(s backend.Sample, sen Sentinel, int32Family bool) backend.Sample {
	off := int64(sen) - int64(Blank)
	switch s.Type {
	case backend.TypeDouble:
		s.Float = backend.FP64Blank + float64(off)
	case backend.TypeString:
		s.Str = []string{backend.StrBlank, backend.StrNotFound, backend.StrNotSupported, backend.StrNotPermissioned}[off]
	default:
		if int32Family {
			s.Int = backend.Int32Blank + off
		} else {
			s.Int = backend.Int64Blank + off
		}
	}
	return s
}

func cmpOr(ds ...time.Duration) time.Duration {
	for _, d := range ds {
		if d > 0 {
			return d
		}
	}
	return 0
}

// fieldType is the DCGM value type of a field (dcgm_fields.cpp); a test
// checks it against gpuprobe's field set.
func fieldType(f uint16) byte {
	switch f {
	case 1, 50, 54:
		return backend.TypeString
	case 155, 160, 164, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1013, 1014:
		return backend.TypeDouble
	}
	return backend.TypeInt64
}

// FieldType exposes fieldType for the cross-check test.
func FieldType(f uint16) byte { return fieldType(f) }
