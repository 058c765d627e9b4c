package gpuprobe

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aiobs/aiobs/gpuprobe/backend"
	"github.com/aiobs/aiobs/gpuprobe/report"
)

// prober is one run of Probe.
type prober struct {
	b     Backend
	opts  Options
	clock Clock

	fields   []Field           // selected fields, ID order
	watches  []backend.WatchID // live watches, released by cleanup
	watching time.Duration     // time spent in Watch calls
}

// target is one entity and the fields probed on it.
type target struct {
	entity  backend.Entity
	results map[uint16]*result
	watched []uint16 // fields with a live watch, ID order
}

// result is the verdict in the making for one field on one entity.
type result struct {
	field Field
	// preset is a verdict decided without sampling (not applicable, not in
	// the profiling groups, watch failed); empty means "sample it".
	preset report.Status
	code   int
	detail string
	acc    *acc
}

// class is a set of fields watched together on a set of entities. Fields
// are split so that one failing family (profiling) cannot take the others
// down with it: DCGM watches are all-or-nothing.
type class struct {
	entities []backend.Entity
	fields   []uint16
	targets  []*target
}

// modelProfiling is the profiling support of one GPU model.
type modelProfiling struct {
	model  string
	gpus   []int
	probed uint
	groups []backend.MetricGroup
	fields map[uint16]bool
	err    error
}

func (p *prober) run(ctx context.Context) (report.Report, error) {
	// No early ctx check: Init must run even on a cancelled context, so a
	// backend from Open (already initialised, Init a no-op) is still shut
	// down below. A fresh backend's Init fails on the cancelled context.
	for _, id := range p.opts.Fields {
		f, _ := FieldByID(id)
		p.fields = append(p.fields, f)
	}

	start := p.clock.Now()
	info, err := p.b.Init(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return report.Report{}, interrupted(ctx.Err())
		}
		return report.Report{}, &NoBackendError{Tried: []Attempt{{Backend: p.b.Name(), Library: libraryOf(p.b.Name()), Err: err}}}
	}
	initTime := p.clock.Now().Sub(start)

	rep, err := p.measure(ctx, info, start, initTime)
	// Clean up on a context that cannot be cancelled: after an interrupt the
	// watches and groups must still go, or they stay on a shared host engine
	// and count against its 64-group limit.
	if cerr := p.cleanup(context.WithoutCancel(ctx)); cerr != nil {
		return report.Report{}, errors.Join(err, fmt.Errorf("gpuprobe cleanup: %w", cerr))
	}
	return rep, err
}

func interrupted(err error) error { return fmt.Errorf("gpuprobe interrupted: %w", err) }

func libraryOf(name string) string {
	switch name {
	case backend.NameDCGMEmbedded, backend.NameDCGMStandalone:
		return backend.LibraryDCGM
	case backend.NameNVML:
		return backend.LibraryNVML
	}
	return ""
}

// cleanup removes every watch, newest first, then shuts the backend down.
func (p *prober) cleanup(ctx context.Context) error {
	var errs []error
	for i := len(p.watches) - 1; i >= 0; i-- {
		if err := p.b.Unwatch(ctx, p.watches[i]); err != nil {
			errs = append(errs, err)
		}
	}
	p.watches = nil
	if err := p.b.Shutdown(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// fail turns an error from a backend call into Probe's error.
func fail(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return interrupted(ctx.Err())
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (p *prober) measure(ctx context.Context, info backend.Info, start time.Time, initTime time.Duration) (report.Report, error) {
	gpus, err := p.b.GPUs(ctx)
	if err != nil {
		return report.Report{}, fail(ctx, "list gpus", err)
	}
	if len(gpus) == 0 {
		return report.Report{}, &NoGPUError{Backend: info.Name}
	}
	gpus = slices.Clone(gpus)
	slices.SortFunc(gpus, func(a, b backend.GPU) int { return cmp.Compare(a.ID, b.ID) })
	for i := range gpus {
		gpus[i].Instances = slices.Clone(gpus[i].Instances)
		slices.SortFunc(gpus[i].Instances, func(a, b backend.Instance) int { return cmp.Compare(a.Entity.ID, b.Entity.ID) })
	}

	engineStart, engineStartErr := p.b.EngineStats(ctx)
	if ctx.Err() != nil {
		return report.Report{}, interrupted(ctx.Err())
	}

	profs, err := p.profiling(ctx, gpus)
	if err != nil {
		return report.Report{}, err
	}

	lay := p.plan(gpus, profs)
	for _, c := range lay.classes {
		if err := p.watchClass(ctx, c); err != nil {
			return report.Report{}, err
		}
	}
	latencies, err := p.sample(ctx, lay.targets())
	if err != nil {
		return report.Report{}, err
	}

	engineEnd, engineEndErr := p.b.EngineStats(ctx)
	if ctx.Err() != nil {
		return report.Report{}, interrupted(ctx.Err())
	}

	rep := p.assemble(info, start, initTime, gpus, profs, lay, latencies)
	rep.Benchmarks.Engine = engineReport(engineStart, engineStartErr, engineEnd, engineEndErr)

	var missing []string
	for _, name := range p.opts.Require {
		if has, _ := rep.Capabilities.Has(name); !has {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return rep, &MissingCapabilityError{Missing: slices.Compact(missing)}
	}
	return rep, nil
}

// assemble builds the report from the verdicts, in GPU, instance and field
// order.
func (p *prober) assemble(info backend.Info, start time.Time, initTime time.Duration, gpus []backend.GPU,
	profs map[string]*modelProfiling, lay *layout, latencies []float64,
) report.Report {
	rep := report.Report{
		Schema:   report.SchemaVersion,
		ProbedAt: start.UTC().Format(time.RFC3339),
		Backend: report.Backend{
			Name:     info.Name,
			Address:  info.Address,
			Fallback: info.Fallback,
		},
		Settings: report.Settings{
			WindowMS:   p.opts.Window.Milliseconds(),
			IntervalMS: p.opts.Interval.Milliseconds(),
			PollMS:     p.opts.Poll.Milliseconds(),
		},
		GPUs:      []report.GPU{},
		Profiling: []report.Profiling{},
	}
	if info.Name == backend.NameNVML {
		rep.Backend.Note = "nvml shows what the hardware can report; dcgm-exporter needs DCGM to export it"
	}
	if r, ok := lay.global.results[1]; ok && r.acc != nil && r.acc.str != "" {
		rep.Backend.DriverVersion = r.acc.str
	}

	var firstValid, intervals []float64
	collect := func(t *target) []report.Field {
		out := []report.Field{}
		for _, f := range p.fields {
			r, ok := t.results[f.ID]
			if !ok {
				continue
			}
			rf := finish(r)
			rep.Summary.Add(rf.Status)
			if s := rf.Samples; s != nil {
				if s.FirstValidMS != nil {
					firstValid = append(firstValid, *s.FirstValidMS)
				}
				if s.IntervalMS != nil {
					intervals = append(intervals, *s.IntervalMS)
				}
			}
			out = append(out, rf)
		}
		return out
	}
	rep.Global = collect(lay.global)
	for i, g := range gpus {
		rg := report.GPU{Index: int(g.ID), UUID: g.UUID, Model: g.Model, MIG: g.MIG, Fields: collect(lay.gpus[i])}
		for j, in := range g.Instances {
			rg.Instances = append(rg.Instances, report.Instance{
				EntityID:      int(in.Entity.ID),
				GPUInstanceID: int(in.GPUInstanceID),
				Slices:        int(in.Slices),
				Fields:        collect(lay.instances[i][j]),
			})
		}
		rep.GPUs = append(rep.GPUs, rg)
	}
	for _, mp := range profs {
		rep.Profiling = append(rep.Profiling, profilingReport(mp))
	}

	rep.Benchmarks = report.Benchmarks{
		InitMS:           ms(initTime),
		WatchMS:          ms(p.watching),
		FirstValidMS:     dist(firstValid),
		UpdateIntervalMS: dist(intervals),
		PollLatencyUS:    dist(latencies),
	}
	rep.Capabilities = capabilities(info.Name, rep, p.fields)
	return rep

}

// profiling asks each distinct GPU model, on its lowest-numbered GPU, for
// its profiling metric groups. dcgm-exporter asks GPU 0 only and so drops
// profiling on a node whose GPU 0 lacks it, or keeps it for GPUs that lack
// it.
func (p *prober) profiling(ctx context.Context, gpus []backend.GPU) (map[string]*modelProfiling, error) {
	profs := map[string]*modelProfiling{}
	wanted := slices.ContainsFunc(p.fields, func(f Field) bool { return f.Profiling })
	for _, g := range gpus {
		mp, ok := profs[g.Model]
		if ok {
			mp.gpus = append(mp.gpus, int(g.ID))
			continue
		}
		mp = &modelProfiling{model: g.Model, gpus: []int{int(g.ID)}, probed: g.ID, fields: map[uint16]bool{}}
		profs[g.Model] = mp
		if !wanted {
			mp.err = errors.New("not checked: no profiling fields requested")
			continue
		}
		groups, err := p.b.ProfilingGroups(ctx, g.ID)
		if ctx.Err() != nil {
			return nil, interrupted(ctx.Err())
		}
		if err != nil {
			mp.err = err
			continue
		}
		mp.groups = groups
		for _, grp := range groups {
			for _, id := range grp.Fields {
				mp.fields[id] = true
			}
		}
		if len(mp.fields) == 0 {
			mp.err = errors.New("no profiling metric groups")
		}
	}
	return profs, nil
}

// layout is the probe plan: a target per entity and the watch classes.
type layout struct {
	global    *target
	gpus      []*target   // per GPU, in GPU order
	instances [][]*target // per GPU, its MIG instances
	classes   []*class
}

// targets lists every target in report order.
func (l *layout) targets() []*target {
	all := []*target{l.global}
	for i := range l.gpus {
		all = append(all, l.gpus[i])
		all = append(all, l.instances[i]...)
	}
	return all
}

// plan decides, for every entity and field, whether to watch it or what
// the verdict already is, and groups the watched ones into classes.
func (p *prober) plan(gpus []backend.GPU, profs map[string]*modelProfiling) *layout {
	global := &target{entity: backend.Entity{Kind: backend.KindGlobal}, results: map[uint16]*result{}}
	lay := &layout{global: global}
	plainGPU := &class{}
	plainInst := &class{}
	profGPU := map[string]*class{}
	profInst := map[string]*class{}

	add := func(c *class, t *target, f Field) {
		if !slices.Contains(c.fields, f.ID) {
			c.fields = append(c.fields, f.ID)
		}
		if !slices.Contains(c.targets, t) {
			c.targets = append(c.targets, t)
			if t.entity.Kind != backend.KindGlobal {
				c.entities = append(c.entities, t.entity)
			}
		}
		t.results[f.ID] = &result{field: f}
	}
	// decide routes field f on target t; plain and prof are the classes
	// for the entity's kind.
	decide := func(t *target, f Field, mp *modelProfiling, plain *class, prof map[string]*class) {
		switch {
		case f.Level == LevelVGPU:
			t.results[f.ID] = &result{field: f, preset: report.StatusNotApplicable,
				detail: "vgpu field; gpuprobe probes physical gpus and mig instances"}
		case f.Profiling && mp.err != nil:
			t.results[f.ID] = &result{field: f, preset: report.StatusNotSupported,
				code: codeOf(mp.err), detail: "profiling unavailable on " + mp.model}
		case f.Profiling && !mp.fields[f.ID]:
			t.results[f.ID] = &result{field: f, preset: report.StatusNotSupported,
				detail: "not in the profiling metric groups of " + mp.model}
		case f.Profiling:
			c, ok := prof[mp.model]
			if !ok {
				c = &class{}
				prof[mp.model] = c
			}
			add(c, t, f)
		default:
			add(plain, t, f)
		}
	}

	for _, f := range p.fields {
		if f.Level == LevelGlobal {
			// Global fields ride on the GPU watch (DCGM watches them once,
			// node-wide) and are read from the global entity.
			add(plainGPU, global, f)
		}
	}
	for _, g := range gpus {
		mp := profs[g.Model]
		t := &target{entity: backend.Entity{Kind: backend.KindGPU, ID: g.ID}, results: map[uint16]*result{}}
		for _, f := range p.fields {
			if f.Level != LevelGlobal {
				decide(t, f, mp, plainGPU, profGPU)
			}
		}
		lay.gpus = append(lay.gpus, t)

		var its []*target
		for _, in := range g.Instances {
			it := &target{entity: in.Entity, results: map[uint16]*result{}}
			for _, f := range p.fields {
				if f.instanceLevel() {
					decide(it, f, mp, plainInst, profInst)
				}
			}
			its = append(its, it)
		}
		lay.instances = append(lay.instances, its)
	}

	for _, c := range []*class{plainGPU, plainInst} {
		if len(c.fields) > 0 {
			lay.classes = append(lay.classes, c)
		}
	}
	models := make([]string, 0, len(profs))
	for m := range profs {
		models = append(models, m)
	}
	slices.Sort(models)
	for _, m := range models {
		for _, c := range []*class{profGPU[m], profInst[m]} {
			if c != nil && len(c.fields) > 0 {
				lay.classes = append(lay.classes, c)
			}
		}
	}
	for _, c := range lay.classes {
		slices.Sort(c.fields)
	}
	return lay
}

// watchClass watches a class; when DCGM refuses, it halves the field list
// until each failing field is isolated, so one bad field (IMMA on V100, a
// profiler holding the counters) costs only itself.
func (p *prober) watchClass(ctx context.Context, c *class) error {
	if len(c.entities) == 0 {
		// Only global fields and no GPU entity to carry them: cannot happen
		// (Probe stops on zero GPUs), but never hand DCGM an empty group.
		return nil
	}
	return p.watchFields(ctx, c, c.fields)
}

func (p *prober) watchFields(ctx context.Context, c *class, fields []uint16) error {
	start := p.clock.Now()
	id, err := p.b.Watch(ctx, backend.WatchSpec{
		Entities: c.entities,
		Fields:   fields,
		Every:    p.opts.Interval,
		KeepAge:  2 * p.opts.Window,
	})
	p.watching += p.clock.Now().Sub(start)
	if err == nil {
		p.watches = append(p.watches, id)
		for _, t := range c.targets {
			for _, fid := range fields {
				if r, ok := t.results[fid]; ok && r.preset == "" {
					r.acc = &acc{watchStart: start}
					t.watched = append(t.watched, fid)
				}
			}
			slices.Sort(t.watched)
		}
		return nil
	}
	var be *backend.Error
	if ctx.Err() != nil || !errors.As(err, &be) {
		return fail(ctx, "watch fields", err)
	}
	if len(fields) > 1 {
		half := len(fields) / 2
		if err := p.watchFields(ctx, c, fields[:half]); err != nil {
			return err
		}
		return p.watchFields(ctx, c, fields[half:])
	}
	for _, t := range c.targets {
		if r, ok := t.results[fields[0]]; ok && r.preset == "" {
			r.preset, r.code, r.detail = report.StatusWatchFailed, be.Code, be.Msg
		}
	}
	return nil
}

// sample polls every watched field for the window and returns the latency
// of each full poll in microseconds.
func (p *prober) sample(ctx context.Context, targets []*target) ([]float64, error) {
	if !slices.ContainsFunc(targets, func(t *target) bool { return len(t.watched) > 0 }) {
		return []float64{}, nil
	}
	var latencies []float64
	begin := p.clock.Now()
	for {
		roundStart := p.clock.Now()
		for _, t := range targets {
			if len(t.watched) == 0 {
				continue
			}
			samples, err := p.b.Latest(ctx, t.entity, t.watched)
			at := p.clock.Now()
			var be *backend.Error
			switch {
			case err == nil:
			case ctx.Err() == nil && errors.As(err, &be):
				for _, fid := range t.watched {
					t.results[fid].acc.observeError(be.Code, be.Msg)
				}
				continue
			default:
				return nil, fail(ctx, fmt.Sprintf("read %s %d", t.entity.Kind, t.entity.ID), err)
			}
			seen := map[uint16]bool{}
			for _, s := range samples {
				r, ok := t.results[s.Field]
				if !ok || r.acc == nil || seen[s.Field] {
					continue
				}
				seen[s.Field] = true
				r.acc.observe(s, at)
			}
			for _, fid := range t.watched {
				if !seen[fid] {
					t.results[fid].acc.observeError(backend.CodeNoData, "no value returned")
				}
			}
		}
		now := p.clock.Now()
		latencies = append(latencies, round3(float64(now.Sub(roundStart))/float64(time.Microsecond)))
		if now.Sub(begin) >= p.opts.Window {
			return latencies, nil
		}
		if err := p.clock.Sleep(ctx, p.opts.Poll); err != nil {
			return nil, interrupted(err)
		}
	}
}

// finish turns a result into the report's field entry.
func finish(r *result) report.Field {
	f := report.Field{ID: int(r.field.ID), Name: r.field.Name, Metric: r.field.Metric}
	switch {
	case r.preset != "":
		f.Status, f.Code, f.Detail = r.preset, r.code, r.detail
	case r.acc == nil:
		// Planned but its class was never watched (no entity to carry it).
		f.Status, f.Detail = report.StatusBlank, "not watched"
	default:
		f.Status, f.Code, f.Detail = r.acc.verdict(r.field)
		f.Samples = r.acc.samples()
	}
	return f
}

func profilingReport(mp *modelProfiling) report.Profiling {
	pr := report.Profiling{
		Model:     mp.model,
		GPUs:      slices.Clone(mp.gpus),
		ProbedGPU: int(mp.probed),
		Supported: mp.err == nil,
		Groups:    []report.MetricGroup{},
	}
	if mp.err != nil {
		pr.Code, pr.Detail = codeOf(mp.err), messageOf(mp.err)
	}
	for _, g := range mp.groups {
		ids := make([]int, len(g.Fields))
		for i, id := range g.Fields {
			ids[i] = int(id)
		}
		pr.Groups = append(pr.Groups, report.MetricGroup{Major: int(g.Major), Minor: int(g.Minor), FieldIDs: ids})
	}
	return pr
}

func engineReport(start backend.EngineStats, startErr error, end backend.EngineStats, endErr error) report.Engine {
	e := report.Engine{Status: report.EngineUnknown}
	if startErr == nil {
		e.Start = &report.EngineSample{CPUPercent: round3(start.CPUPercent), MemoryKB: start.MemoryKB}
	}
	if endErr == nil {
		e.End = &report.EngineSample{CPUPercent: round3(end.CPUPercent), MemoryKB: end.MemoryKB}
	}
	if e.Start != nil || e.End != nil {
		e.Status = report.EngineMeasured
	}
	if err := cmp.Or(startErr, endErr); err != nil {
		e.Reason = messageOf(err)
	}
	return e
}

func codeOf(err error) int {
	var be *backend.Error
	if errors.As(err, &be) {
		return be.Code
	}
	return 0
}

// messageOf is the error's message without the backend's operation prefix.
func messageOf(err error) string {
	var be *backend.Error
	if errors.As(err, &be) {
		return be.Msg
	}
	return err.Error()
}
