package promrules

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
)

// ruleFile, ruleGroup and rule are the Prometheus rule-file format, with
// fields in the order people read them.
type ruleFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

type ruleGroup struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval,omitempty"`
	Rules    []rule `yaml:"rules"`
}

type rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// sli is an SLO's indicator as two PromQL expressions over the last 5m,
// each without labels: the number of events and the number of bad ones.
type sli struct {
	requests, errors string
	// bad says what a bad event is, for annotations: "failed".
	bad string
}

// rateWindow is the width of the recorded counts.
const rateWindow = "5m"

// buildSLI chooses the series an SLO reads from the target's catalogue.
// Every selector is summed to a single series without labels: the SLO is
// the workload's in one environment, its identity comes from the rule's
// labels, and whatever the backend splits its series by (engine, rank,
// instance, SumBy) is summed away.
func buildSLI(t *plan.Target, slo *plan.SLO) (sli, error) {
	be := t.Backend
	if be == nil {
		return sli{}, fmt.Errorf("workload %s has no backend catalogue", t.Workload.ID())
	}
	inc := func(s plan.Series, suffix string, extra ...plan.Matcher) string {
		return "sum(increase(" + t.Selector(s, suffix, extra...) + "[" + rateWindow + "]))"
	}
	switch slo.Kind {
	case "availability":
		errS, ok := be.Stages["errors"]
		if !ok {
			return sli{}, fmt.Errorf("backend %s has no errors series, so an availability SLO cannot be measured", be.Name)
		}
		errs := inc(errS, "")
		var total, zero string
		if reqS, ok := be.Stages["requests"]; ok {
			total = inc(reqS, "")
			zero = "0 * " + total
		} else if succS, ok := be.Stages["successes"]; ok {
			// Successes and failures are counted apart: the total is their
			// sum, with the failures filled with zero until they exist.
			succ := inc(succS, "")
			zero = "0 * " + succ
			total = succ + " + (" + errs + " or " + zero + ")"
		} else {
			return sli{}, fmt.Errorf("backend %s has neither a requests nor a successes series, so an availability SLO cannot be measured", be.Name)
		}
		// An error counter is often born at the first error; until then
		// the sum is empty and the ratio would be empty too, hiding the
		// SLO. A zero with the total's (empty) label set fills the gap;
		// vector(0) would not survive a later label change.
		return sli{requests: total, errors: errs + " or " + zero, bad: "failed"}, nil
	case "latency":
		s, ok := be.Stages[slo.Stage]
		if !ok || s.Type != "histogram" {
			return sli{}, fmt.Errorf("backend %s has no %s histogram, so a %s latency SLO cannot be measured", be.Name, slo.Stage, slo.Name)
		}
		bound, err := bucketBound(s, slo.Threshold)
		if err != nil {
			return sli{}, err
		}
		count := inc(s, "_count")
		under := inc(s, "_bucket", plan.Matcher{Name: "le", Op: "=~", Value: LeRegex(bound)})
		return sli{requests: count, errors: count + " - " + under, bad: latencyPhrase(slo)}, nil
	}
	return sli{}, fmt.Errorf("slo %s has unknown kind %q", slo.Name, slo.Kind)
}

func latencyPhrase(slo *plan.SLO) string {
	switch slo.Stage {
	case "ttft":
		return "waited longer than " + slo.Threshold + " for their first token"
	case "e2e":
		return "took longer than " + slo.Threshold + " end to end"
	case "itl":
		return "had inter-token gaps longer than " + slo.Threshold
	case "queue":
		return "queued longer than " + slo.Threshold
	}
	return "took longer than " + slo.Threshold + " (" + slo.Stage + ")"
}

// sloGroup renders one SLO's group: the 5m counts, every window's ratio of
// summed counts, the period budget, the metadata and one alert per tier. Alerts
// sit in the same group as the recordings they read, so they see this
// evaluation's values rather than the previous one's.
func sloGroup(std *plan.Standard, t *plan.Target, slo *plan.SLO) (ruleGroup, error) {
	m, err := Explain(slo, t.Env.Paging)
	if err != nil {
		return ruleGroup{}, err
	}
	ind, err := buildSLI(t, slo)
	if err != nil {
		return ruleGroup{}, err
	}
	windows, err := sloWindows(m)
	if err != nil {
		return ruleGroup{}, err
	}
	id := sloLabels(t, slo)
	sel := selectorOf(id)
	budget := m.Budget

	var rules []rule
	rec := func(name, expr string, extra ...string) {
		ls := cloneLabels(id)
		for i := 0; i+1 < len(extra); i += 2 {
			ls[extra[i]] = extra[i+1]
		}
		rules = append(rules, rule{Record: name, Expr: expr, Labels: ls})
	}
	rec(RecRequests5m, ind.requests)
	rec(RecErrors5m, ind.errors)
	rec(RecRatio(rateWindow), ratio(RecErrors5m+sel, RecRequests5m+sel))
	// Every longer window and the period is one ratio of the summed 5m
	// counts: exact however traffic varies, and one series per window, as
	// many as Sloth records for its averaged ratios.
	for _, w := range windows {
		if name := windowName(w); name != rateWindow {
			rec(RecRatio(name), ratio(sumOver(RecErrors5m+sel, w), sumOver(RecRequests5m+sel, w)))
		}
	}
	rec(RecRatioPeriod, ratio(sumOver(RecErrors5m+sel, m.Period), sumOver(RecRequests5m+sel, m.Period)))
	rec(RecBudgetRemaining, "1 - "+RecRatioPeriod+sel+" / "+budget)
	rec(RecBurnRate5m, RecRatio(rateWindow)+sel+" / "+budget)
	if slices.Contains(windows, time.Hour) {
		rec(RecBurnRate1h, RecRatio("1h")+sel+" / "+budget)
	}
	rec(RecBurnRatePeriod, RecRatioPeriod+sel+" / "+budget)
	info := []string{"kind", slo.Kind, "objective", slo.Objective, "period", slo.Period, "error_budget", budget}
	if slo.Kind == "latency" {
		info = append(info, "stage", slo.Stage, "threshold", slo.Threshold)
	}
	rec(RecInfo, "vector(1)", info...)

	alert := SLOAlertName(slo)
	for _, tm := range m.Tiers {
		expr := RecRatio(windowName(tm.Short)) + sel + " > " + tm.Threshold +
			"\nand\n" + RecRatio(windowName(tm.Long)) + sel + " > " + tm.Threshold
		if m.MinEvents > 0 {
			expr += "\nand\n" + sumOver(RecRequests5m+sel, tm.Long) + " >= " + strconv.Itoa(m.MinEvents)
		}
		ls := cloneLabels(id)
		ls[LabelSeverity] = tm.Severity
		ls[LabelBurnTier] = tm.Name
		ls[LabelClass] = ClassSLO
		rules = append(rules, rule{
			Alert: alert,
			Expr:  expr,
			// No for: the short window already confirms the burn is still
			// going on, and a for: only delays detection and costs recall
			// (SRE workbook ch. 5, iteration 3).
			Labels:      ls,
			Annotations: sloAnnotations(std, t, slo, m, tm, ind, alert),
		})
	}
	return ruleGroup{Name: SLOGroupName(t, slo), Interval: model.Duration(m.Interval).String(), Rules: rules}, nil
}

// sumOver sums a 5m count over window w.
func sumOver(series string, w time.Duration) string {
	return "sum_over_time(" + series + "[" + rangeText(w) + "])"
}

// ratio divides error counts by request counts, dropping windows without
// requests: an empty result instead of NaN, which alerts ignore alike and
// dashboards show as a gap.
func ratio(errs, reqs string) string { return errs + " / (" + reqs + " > 0)" }

// rangeText is the range a window's sum_over_time reads: half an
// evaluation interval short of the window, so that it holds exactly
// window/interval samples whether the engine's ranges are closed at the
// start (Prometheus 2) or open (Prometheus 3), and the sampled 5m counts
// tile exactly the window.
func rangeText(w time.Duration) string {
	return model.Duration(w - EvalInterval/2).String()
}

// sloWindows lists the distinct tier windows, shortest first. Each must be
// a whole number of recording intervals, since windows are sums of 5m
// counts.
func sloWindows(m SLOMath) ([]time.Duration, error) {
	var ws []time.Duration
	for _, t := range m.Tiers {
		ws = append(ws, t.Long, t.Short)
	}
	ws = append(ws, m.Period)
	for _, w := range ws {
		if w < EvalInterval || w%EvalInterval != 0 {
			return nil, fmt.Errorf("window %s is not a multiple of the %s recording interval", durationText(w), durationText(EvalInterval))
		}
	}
	ws = ws[:len(ws)-1]
	slices.Sort(ws)
	return slices.Compact(ws), nil
}

func sloLabels(t *plan.Target, slo *plan.SLO) map[string]string {
	return map[string]string{
		LabelTeam:     t.Team.Name,
		LabelWorkload: t.Workload.Name,
		LabelEnv:      t.Env.Name,
		LabelSLO:      slo.Name,
	}
}

// selectorOf writes a selector of equality matchers, sorted by name.
func selectorOf(ls map[string]string) string {
	var ms []plan.Matcher
	for _, k := range sortedKeys(ls) {
		ms = append(ms, plan.Matcher{Name: k, Op: "=", Value: ls[k]})
	}
	return plan.FormatMatchers(ms)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func cloneLabels(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+4)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sloAnnotations(std *plan.Standard, t *plan.Target, slo *plan.SLO, m SLOMath, tm TierMath, ind sli, alert string) map[string]string {
	title, ok := sloTitles[slo.Name]
	if !ok {
		title = slo.Name
	}
	thr, _ := new(big.Rat).SetString(tm.Threshold)
	desc := fmt.Sprintf("More than %s of %s's requests in %s %s over both the last %s and the last %s "+
		"(error-ratio threshold %s = burn factor %s × error budget %s of the %s%% objective over %s). "+
		"By the time this fires about %s%% of the %s error budget is spent; at %s× the whole budget lasts %s.",
		percentText(thr), t.Workload.Name, t.Env.Name, ind.bad, tm.LongText, tm.ShortText,
		tm.Threshold, tm.Factor, m.Budget, m.Objective, m.PeriodText,
		tm.BudgetPercent, m.PeriodText, tm.Factor, durationText(tm.Exhaustion))
	if m.MinEvents > 0 {
		desc += fmt.Sprintf(" It fires only when the last %s held at least %d requests.", tm.LongText, m.MinEvents)
	}
	return map[string]string{
		"summary": fmt.Sprintf("%s/%s %s SLO in %s: error budget burning at %s× or faster (%s)",
			t.Team.Name, t.Workload.Name, title, t.Env.Name, tm.Factor, tm.Name),
		"description":   desc,
		"runbook_url":   runbookURL(std, alert),
		"dashboard_url": t.Env.DashboardURL(t.Workload.DashboardUID()),
	}
}

func runbookURL(std *plan.Standard, alert string) string {
	return std.RunbookBaseURL + "/" + alert
}

// sloDiag turns an SLO that cannot be rendered into a finding at the
// decision.
func sloDiag(t *plan.Target, slo *plan.SLO, err error) diag.Diagnostic {
	return diag.Diagnostic{
		Pos:      slo.Pos,
		Rule:     "SLO_UNRENDERABLE",
		Severity: diag.Error,
		Artifact: RuleFilePath(t),
		Path:     "teams." + t.Team.Name + ".workloads." + t.Workload.Name + ".slo." + slo.Name,
		Msg:      err.Error(),
	}
}
