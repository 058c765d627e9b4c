package gpuprobe

import (
	"cmp"
	"slices"

	"github.com/aiobs/aiobs/gpuprobe/backend"
	"github.com/aiobs/aiobs/gpuprobe/report"
)

// capabilities derives the summary aiobs render consumes from the per-GPU
// verdicts. A metric counts for a GPU when it is usable on the GPU itself
// or, under MIG, on every instance of it (dcgm-exporter reports
// per-instance series there).
func capabilities(backendName string, rep report.Report, fields []Field) report.Capabilities {
	c := report.Capabilities{
		HardwareOnly: backendName == backend.NameNVML,
		Metrics:      []string{},
		EventOnly:    []string{},
		Substitutes:  []report.Substitute{},
	}
	if len(rep.GPUs) == 0 {
		return c
	}
	for _, g := range rep.GPUs {
		c.MIG = c.MIG || g.MIG
	}

	usable := func(s report.Status) bool { return s.Usable() }
	eventOK := func(s report.Status) bool { return s.Usable() || s == report.StatusEventNoEvent }
	everyGPU := func(id uint16, ok func(report.Status) bool) bool {
		for _, g := range rep.GPUs {
			if !onGPU(g, id, ok) {
				return false
			}
		}
		return true
	}

	metrics := map[uint16]bool{}
	for _, f := range fields {
		switch {
		case f.Level == LevelVGPU:
			continue
		case f.Level == LevelGlobal:
			metrics[f.ID] = statusIn(rep.Global, f.ID, usable)
		default:
			metrics[f.ID] = everyGPU(f.ID, usable)
		}
		if metrics[f.ID] {
			c.Metrics = append(c.Metrics, f.Metric)
		} else if f.Kind == Event && everyGPU(f.ID, eventOK) {
			c.EventOnly = append(c.EventOnly, f.Metric)
		}
	}

	family := func(cap string, ok func(report.Status) bool) bool {
		for _, g := range rep.GPUs {
			found := slices.ContainsFunc(fields, func(f Field) bool {
				return slices.Contains(f.Caps, cap) && onGPU(g, f.ID, ok)
			})
			if !found {
				return false
			}
		}
		return true
	}
	c.DCP = family(report.CapDCP, usable)
	c.NVLink = family(report.CapNVLink, usable)
	c.ECC = family(report.CapECC, usable)
	c.Throttle = family(report.CapThrottle, usable)
	c.XID = family(report.CapXID, eventOK)

	for _, f := range fields {
		if len(f.Substitutes) == 0 || metrics[f.ID] || f.Level == LevelVGPU {
			continue
		}
		for _, sid := range f.Substitutes {
			if metrics[sid] {
				sub, _ := FieldByID(sid)
				c.Substitutes = append(c.Substitutes, report.Substitute{Metric: f.Metric, Use: sub.Metric})
				break
			}
		}
	}
	slices.Sort(c.Metrics)
	slices.Sort(c.EventOnly)
	slices.SortFunc(c.Substitutes, func(a, b report.Substitute) int { return cmp.Compare(a.Metric, b.Metric) })
	return c
}

// onGPU reports whether field id satisfies ok on GPU g itself or on every
// one of its MIG instances.
func onGPU(g report.GPU, id uint16, ok func(report.Status) bool) bool {
	if statusIn(g.Fields, id, ok) {
		return true
	}
	if len(g.Instances) == 0 {
		return false
	}
	for _, in := range g.Instances {
		if !statusIn(in.Fields, id, ok) {
			return false
		}
	}
	return true
}

func statusIn(fs []report.Field, id uint16, ok func(report.Status) bool) bool {
	for _, f := range fs {
		if f.ID == int(id) {
			return ok(f.Status)
		}
	}
	return false
}
