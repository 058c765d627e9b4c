package promrules

import (
	"strings"
	"time"

	"github.com/aiobs/aiobs/compile/plan"
)

// Recording rule names. Every SLO recording carries exactly the labels
// team, workload, env and slo (plus burn_tier on the tier constants), so any
// two of them join without on()/ignoring().
const (
	// RecRequests5m and RecErrors5m are the event counts of the last 5m:
	// the only rules that read the backend's series.
	RecRequests5m = "aiobs:slo_requests:increase5m"
	RecErrors5m   = "aiobs:slo_errors:increase5m"
	// RecRatioPeriod covers the SLO period whatever its length, so
	// dashboards need one name for all.
	RecRatioPeriod = "aiobs:slo_error_ratio:ratio_period"
	// RecBudgetRemaining is 1 − period error ratio / budget: 1 untouched,
	// 0 spent, negative overspent.
	RecBudgetRemaining = "aiobs:slo_error_budget_remaining:ratio"
	// RecBurnRate5m, RecBurnRate1h and RecBurnRatePeriod are error ratio /
	// budget: 1 spends the budget exactly over the period.
	RecBurnRate5m     = "aiobs:slo_burn_rate:ratio_rate5m"
	RecBurnRate1h     = "aiobs:slo_burn_rate:ratio_rate1h"
	RecBurnRatePeriod = "aiobs:slo_burn_rate:ratio_period"
	// RecInfo is 1, with the decision's text as labels: kind, objective,
	// period, error_budget, threshold and stage.
	RecInfo = "aiobs:slo_info"
)

// RecRatio names the error ratio of a window: sum_over_time of the 5m
// error counts over the window divided by that of the request counts, e.g.
// aiobs:slo_error_ratio:ratio_rate1h.
func RecRatio(window string) string { return "aiobs:slo_error_ratio:ratio_rate" + window }

// Label names every aiobs alert and SLO recording carries.
const (
	LabelTeam     = "team"
	LabelWorkload = "workload"
	LabelEnv      = "env"
	LabelSLO      = "slo"
	LabelSeverity = "severity"
	LabelBurnTier = "burn_tier"
	LabelClass    = "class"
)

// Alert classes, the class label: SLO burn, infrastructure, ML quality.
const (
	ClassSLO     = "slo"
	ClassInfra   = "infra"
	ClassQuality = "quality"
)

// RuleFilePath is where a target's Prometheus rule file goes: one
// directory per team, the namespace layout mimirtool and the Mimir ruler
// use.
func RuleFilePath(t *plan.Target) string {
	return t.Env.Name + "/prometheus/rules/" + t.Team.Name + "/" + t.Workload.Name + ".yaml"
}

// TestFilePath is where the target's promtool unit tests go.
func TestFilePath(t *plan.Target) string {
	return t.Env.Name + "/prometheus/tests/" + t.Team.Name + "/" + t.Workload.Name + "_test.yaml"
}

// KubeFilePath is where the target's PrometheusRule object goes.
func KubeFilePath(t *plan.Target) string {
	return t.Env.Name + "/kubernetes/prometheusrules/" + t.Team.Name + "--" + t.Workload.Name + ".yaml"
}

// AlertmanagerPath is where an environment's routing tree goes.
func AlertmanagerPath(env string) string { return env + "/alertmanager/alertmanager.yaml" }

// SLOGroupName names the rule group holding one SLO's recordings and alerts.
// The environment is part of it so that two environments synced into one
// Mimir tenant and namespace cannot overwrite each other's groups.
func SLOGroupName(t *plan.Target, slo *plan.SLO) string {
	return groupPrefix(t) + "--slo-" + slo.Name
}

// InfraGroupName and QualityGroupName name the other two groups.
func InfraGroupName(t *plan.Target) string { return groupPrefix(t) + "--infra" }

// QualityGroupName names the ML-quality group.
func QualityGroupName(t *plan.Target) string { return groupPrefix(t) + "--quality" }

func groupPrefix(t *plan.Target) string {
	return "aiobs--" + t.Team.Name + "--" + t.Workload.Name + "--" + t.Env.Name
}

// sloTitles spells the SLO names people read in alert names and summaries.
var sloTitles = map[string]string{
	"availability": "Availability",
	"ttft":         "TTFT",
	"e2e":          "E2E",
	"itl":          "ITL",
	"queue":        "QueueTime",
}

// SLOAlertName is the alert name of an SLO's burn-rate tiers, one name per
// SLO so that a runbook can be specific and promtool tests can address one
// SLO; the tiers differ by burn_tier and severity.
func SLOAlertName(slo *plan.SLO) string {
	title, ok := sloTitles[slo.Name]
	if !ok {
		title = camel(slo.Name)
	}
	return "AIOBS" + title + "BudgetBurn"
}

// camel turns a #Name (lowercase, digits, dashes) into CamelCase, which is
// in the legacy metric-name charset.
func camel(s string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(s, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// windowName is a window as it appears in a record name: the Prometheus
// duration text (5m, 1h, 3d).
func windowName(d time.Duration) string { return durationText(d) }
