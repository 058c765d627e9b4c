// Package environments projects the organisation's standard onto one
// deployment environment: the severity an alert may have there (page only
// where paging is on) and the GPU metric set that will really have data,
// given the environment's gpuprobe capability reports.
//
// It works on plan values and report types only; it reads no files and
// knows nothing about the artifacts rendered from its answers.
package environments

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/gpuprobe/report"
)

// Severities of aiobs alerts.
const (
	Page   = "page"
	Notify = "notify"
)

// Severity returns the severity an alert that wants severity gets in e:
// where paging is off, every alert notifies.
func Severity(e *plan.Environment, wanted string) string {
	if wanted == Page && !e.Paging {
		return Notify
	}
	return wanted
}

// gpuKeys maps the standard's GPU keys to the plan fields they fill.
func gpuKeys(m *plan.GPUMetrics) map[string]*string {
	return map[string]*string{
		"util": &m.Util, "smActive": &m.SMActive, "fbUsed": &m.FBUsed, "fbFree": &m.FBFree,
		"power": &m.Power, "temp": &m.Temp, "memTemp": &m.MemTemp, "xid": &m.XID,
		"eccDBE": &m.ECCDBE, "clockEvents": &m.ClockEvents,
	}
}

// ratioMetrics are profiling fields that report a 0-1 ratio rather than a
// percentage; a substitute from this set changes the utilisation unit.
var ratioMetrics = []string{
	"DCGM_FI_PROF_GR_ENGINE_ACTIVE", "DCGM_FI_PROF_SM_ACTIVE", "DCGM_FI_PROF_SM_OCCUPANCY",
	"DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "DCGM_FI_PROF_DRAM_ACTIVE",
}

// GPU returns the standard's GPU metrics as they apply to an environment.
// Without reports only the standard's safe keys are kept. With reports a
// metric is kept when every report says it has data (or, for event fields,
// that its watch works), replaced by a substitute that every report names,
// or dropped; each swap and drop leaves a note.
func GPU(std plan.GPUMetrics, safe []string, reports []report.Report) plan.GPUMetrics {
	out := std
	out.Notes = nil
	out.UtilUnit = "percent"
	keys := gpuKeys(&out)
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	})
	if len(reports) == 0 {
		for _, k := range names {
			if !slices.Contains(safe, k) {
				*keys[k] = ""
			}
		}
		return out
	}
	for _, k := range names {
		metric := *keys[k]
		if metric == "" || usableEverywhere(metric, reports) {
			continue
		}
		// Only utilisation has a stand-in that means the same thing; an SM
		// activity panel fed with GPU_UTIL would repeat the utilisation
		// panel under a false title.
		if sub := commonSubstitute(metric, reports); sub != "" && k == "util" {
			*keys[k] = sub
			out.Notes = append(out.Notes, fmt.Sprintf("%s has no data on every GPU; %s stands in for it", metric, sub))
			if slices.Contains(ratioMetrics, sub) {
				out.UtilUnit = "percentunit"
			}
			continue
		}
		*keys[k] = ""
		out.Notes = append(out.Notes, fmt.Sprintf("%s has no data on every GPU (%s), so nothing queries it", metric, whereMissing(metric, reports)))
	}
	return out
}

func usableEverywhere(metric string, reports []report.Report) bool {
	for _, r := range reports {
		c := r.Capabilities
		if !slices.Contains(c.Metrics, metric) && !slices.Contains(c.EventOnly, metric) {
			return false
		}
	}
	return true
}

// commonSubstitute is the substitute every report names for metric, if
// they agree and it is usable everywhere.
func commonSubstitute(metric string, reports []report.Report) string {
	var use string
	for _, r := range reports {
		i := slices.IndexFunc(r.Capabilities.Substitutes, func(s report.Substitute) bool { return s.Metric == metric })
		if i < 0 {
			return ""
		}
		u := r.Capabilities.Substitutes[i].Use
		if use != "" && u != use {
			return ""
		}
		use = u
	}
	if !usableEverywhere(use, reports) {
		return ""
	}
	return use
}

func whereMissing(metric string, reports []report.Report) string {
	var models []string
	for _, r := range reports {
		if usableEverywhere(metric, []report.Report{r}) {
			continue
		}
		for _, g := range r.GPUs {
			models = append(models, g.Model)
		}
	}
	slices.Sort(models)
	models = slices.Compact(models)
	if len(models) == 0 {
		return "per the probe report"
	}
	return "missing on " + strings.Join(models, ", ")
}
