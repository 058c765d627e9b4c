package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Text writes r as readable tables: one per GPU and MIG instance, then
// profiling support, benchmarks and capabilities. Like Write it is
// deterministic.
func Text(w io.Writer, r Report) error {
	r = canonical(r)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := &printer{w: tw}

	p.f("gpuprobe report (%s)\n", r.Schema)
	p.f("backend:\t%s\n", backendLine(r.Backend))
	if r.Backend.DriverVersion != "" {
		p.f("driver:\t%s\n", r.Backend.DriverVersion)
	}
	if r.Backend.Fallback != "" {
		p.f("fallback:\t%s\n", r.Backend.Fallback)
	}
	if r.Backend.Note != "" {
		p.f("note:\t%s\n", r.Backend.Note)
	}
	if r.ProbedAt != "" {
		p.f("probed at:\t%s\n", r.ProbedAt)
	}
	p.f("window:\t%dms, interval %dms, poll %dms\n", r.Settings.WindowMS, r.Settings.IntervalMS, r.Settings.PollMS)

	for _, g := range r.GPUs {
		mig := "off"
		if g.MIG {
			mig = "on"
		}
		// No tabs in headings: they would join the field table's columns.
		p.f("\nGPU %d: %s, %s, mig %s\n", g.Index, g.Model, g.UUID, mig)
		p.fields(g.Fields)
		for _, in := range g.Instances {
			p.f("\nGPU %d instance %d (entity %d)\n", g.Index, in.GPUInstanceID, in.EntityID)
			p.fields(in.Fields)
		}
	}
	if len(r.Global) > 0 {
		p.f("\nnode-wide fields\n")
		p.fields(r.Global)
	}

	if len(r.Profiling) > 0 {
		p.f("\nprofiling (per GPU model)\n")
		p.f("  MODEL\tGPUS\tSUPPORTED\tGROUPS\tDETAIL\n")
		for _, pr := range r.Profiling {
			p.f("  %s\t%s\t%s\t%d\t%s\n", pr.Model, ints(pr.GPUs), yesNo(pr.Supported), len(pr.Groups), codeDetail(pr.Code, pr.Detail))
		}
	}

	b := r.Benchmarks
	p.f("\nbenchmarks\n")
	p.f("  init\t%sms\n", num(b.InitMS))
	p.f("  watch\t%sms\n", num(b.WatchMS))
	p.f("  first valid sample\t%s\n", dist(b.FirstValidMS, "ms"))
	p.f("  update interval\t%s\n", dist(b.UpdateIntervalMS, "ms"))
	p.f("  poll latency\t%s\n", dist(b.PollLatencyUS, "µs"))
	p.f("  host engine\t%s\n", engine(b.Engine))

	s := r.Summary
	p.f("\nsummary\n")
	p.f("  available %d, available_zero %d, blank %d, event_no_event %d, not_supported %d, no_permission %d, watch_failed %d, not_applicable %d\n",
		s.Available, s.AvailableZero, s.Blank, s.EventNoEvent, s.NotSupported, s.NoPermission, s.WatchFailed, s.NotApplicable)

	c := r.Capabilities
	p.f("\ncapabilities\n")
	p.f("  dcp %s, mig %s, nvlink %s, ecc %s, xid %s, throttle %s\n",
		yesNo(c.DCP), yesNo(c.MIG), yesNo(c.NVLink), yesNo(c.ECC), yesNo(c.XID), yesNo(c.Throttle))
	if c.HardwareOnly {
		p.f("  hardware only: dcgm-exporter needs DCGM to export these metrics\n")
	}
	p.f("  metrics on every GPU (%d)\n", len(c.Metrics))
	for _, m := range c.Metrics {
		p.f("    %s\n", m)
	}
	if len(c.EventOnly) > 0 {
		p.f("  event-only metrics\n")
		for _, m := range c.EventOnly {
			p.f("    %s\n", m)
		}
	}
	if len(c.Substitutes) > 0 {
		p.f("  substitutes\n")
		for _, sub := range c.Substitutes {
			p.f("    %s\t-> %s\n", sub.Metric, sub.Use)
		}
	}
	if p.err != nil {
		return fmt.Errorf("write gpuprobe text: %w", p.err)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write gpuprobe text: %w", err)
	}
	return nil
}

// printer keeps the first write error so Text can check once.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err != nil {
		return
	}
	_, p.err = fmt.Fprintf(p.w, format, args...)
}

func (p *printer) fields(fs []Field) {
	p.f("  ID\tMETRIC\tSTATUS\tFIRST VALID\tINTERVAL\tMIN\tMAX\tDETAIL\n")
	for _, f := range fs {
		first, interval, lo, hi := "-", "-", "-", "-"
		if s := f.Samples; s != nil {
			first = optMS(s.FirstValidMS)
			interval = optMS(s.IntervalMS)
			lo = optNum(s.Min)
			hi = optNum(s.Max)
		}
		p.f("  %d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.Metric, f.Status, first, interval, lo, hi, codeDetail(f.Code, f.Detail))
	}
}

func backendLine(b Backend) string {
	if b.Address != "" {
		return b.Name + " " + b.Address
	}
	return b.Name
}

func codeDetail(code int, detail string) string {
	switch {
	case code != 0 && detail != "":
		return fmt.Sprintf("code %d: %s", code, detail)
	case code != 0:
		return fmt.Sprintf("code %d", code)
	}
	return detail
}

func dist(d Dist, unit string) string {
	if d.Count == 0 {
		return "no data"
	}
	return fmt.Sprintf("p50 %s%s, p95 %s%s, max %s%s (n=%d)", num(d.P50), unit, num(d.P95), unit, num(d.Max), unit, d.Count)
}

func engine(e Engine) string {
	if e.Status != EngineMeasured {
		if e.Reason != "" {
			return "unknown: " + e.Reason
		}
		return "unknown"
	}
	var parts []string
	if e.Start != nil {
		parts = append(parts, fmt.Sprintf("start cpu %s%% mem %dKB", num(e.Start.CPUPercent), e.Start.MemoryKB))
	}
	if e.End != nil {
		parts = append(parts, fmt.Sprintf("end cpu %s%% mem %dKB", num(e.End.CPUPercent), e.End.MemoryKB))
	}
	return strings.Join(parts, ", ")
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func optNum(f *float64) string {
	if f == nil {
		return "-"
	}
	return num(*f)
}

func optMS(f *float64) string {
	if f == nil {
		return "-"
	}
	return num(*f) + "ms"
}

func ints(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
