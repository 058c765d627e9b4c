// Package promrules renders a Plan into Prometheus/Mimir alerting: rule
// files, prometheus-operator PrometheusRule objects, an Alertmanager routing
// tree per environment, and promtool unit tests that prove the rules fire
// when they should. It also exports the arithmetic behind the burn-rate
// alerts (Explain, Scenarios) for `aiobs explain` and the simulator in
// validate/slotest. It reads only the plan and returns bytes; it never
// touches the file system and knows nothing about dashboards or Loki.
//
// # Files
//
// Per environment, per target:
//
//	<env>/prometheus/rules/<team>/<workload>.yaml          rule file (Mimir namespace = team)
//	<env>/kubernetes/prometheusrules/<team>--<workload>.yaml  the same groups as a PrometheusRule
//	<env>/prometheus/tests/<team>/<workload>_test.yaml     promtool test rules
//
// and per environment <env>/alertmanager/alertmanager.yaml.
//
// # Groups
//
// Each SLO has its own group, aiobs--<team>--<workload>--<env>--slo-<slo>,
// evaluated every 5m (EvalInterval), holding every recording its alerts read
// followed by the alerts, so no alert reads a value one evaluation old.
// Infrastructure alerts (class infra, page) and ML-quality alerts (class
// quality, always notify) have groups of their own, …--infra and …--quality,
// at the global evaluation interval, and so do the cost recordings, …--cost.
//
// # Recordings
//
// Names are in the legacy charset (level:metric:operations), and every SLO
// recording carries exactly the labels team, workload, env and slo:
//
//	aiobs:slo_requests:increase5m        events in the last 5m (sum(increase(...[5m])))
//	aiobs:slo_errors:increase5m          bad events in the last 5m, zero-filled
//	aiobs:slo_error_ratio:ratio_rate<W>  errors / requests over W: W = 5m, and for the tier
//	                                     windows (30m, 1h, 2h, 6h, 1d, 3d for the standard
//	                                     tiers) sum_over_time of both 5m counts
//	aiobs:slo_error_ratio:ratio_period   the same over the SLO period
//	aiobs:slo_error_budget_remaining:ratio  1 − period ratio / budget
//	aiobs:slo_burn_rate:ratio_rate5m, …:ratio_rate1h, …:ratio_period   ratio / budget
//	aiobs:slo_info{kind, objective, period, error_budget[, stage, threshold]}  1
//
// Fifteen series per SLO with the standard tiers, as many as Sloth records.
//
// Where the workload decides a cost the catalogue can price, the cost
// recordings carry exactly team, workload, env and model (the decided
// model), so the cost panels stay cheap:
//
//	aiobs:cost_usd_per_hour:rate5m     vector(GPUs * gpuHourUSD), or
//	                                   (prompt tokens/s * input price + generated
//	                                   tokens/s * output price) / 1000000 * 3600
//	aiobs:requests:rate5m              finished requests per second
//	aiobs:cost_usd_per_request:rate5m  per hour / 3600 / (requests > 0)
//
// Longer windows are ratios of summed counts, never averages of ratios, so
// an hour of heavy traffic weighs more than an hour of none. Because the
// group runs every 5m, the 5m counts tile time and their sums are exact
// event counts, which the minimum-events guard compares against.
//
// # Alerts
//
// One alert per SLO (AIOBS<Slo>BudgetBurn, e.g. AIOBSTTFTBudgetBurn) with
// one rule per tier, labelled severity (page|notify; notify everywhere in
// an environment that does not page), burn_tier, class=slo, team, workload,
// env, slo. A tier fires when both its windows' error ratios exceed
// factor × budget (computed with math/big, printed as exact decimal text)
// and its long window held at least the SLO's minEvents requests. There is
// no for: the short window is the confirmation.
//
// Infrastructure alerts (class infra; page where the environment pages),
// each only where the catalogue has its series: AIOBSServingTargetDown,
// AIOBSDCGMExporterMissing, AIOBSGPUXIDError, AIOBSGPUDoubleBitECC,
// AIOBSGPUThrottling (GPU series joined to the workload's pods on
// namespace and pod, and only those the environment's gpuprobe reports
// have), AIOBSQueueSaturated, AIOBSQueueBacklogGrowing,
// AIOBSKVCachePressure. ML-quality alerts (class quality, always notify):
// AIOBSEvalScoreDrop, AIOBSDriftDetected, AIOBSGuardrailTriggersRising.
// runbook_url is the standard's runbook base URL plus the alert name.
package promrules

import (
	"fmt"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/internal/parallel"
	"github.com/aiobs/aiobs/render/encode"
	"github.com/aiobs/aiobs/render/write"
)

// Render returns the Prometheus rule, PrometheusRule, promtool test and
// Alertmanager artifacts of the plan. An SLO the backend cannot measure is
// a diag.List naming the decision. It is the sum of TargetFiles and
// EnvironmentFiles, which render.Render calls one by one.
func Render(p *plan.Plan) ([]write.File, error) {
	type result struct {
		files []write.File
		diags diag.List
		err   error
	}
	results := parallel.Map(len(p.Targets), func(i int) result {
		files, diags, err := TargetFiles(p.Targets[i], &p.Standard)
		return result{files, diags, err}
	})
	var out []write.File
	var diags diag.List
	for _, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		diags = append(diags, r.diags...)
		out = append(out, r.files...)
	}
	if len(diags) > 0 {
		return nil, diags.Sorted()
	}
	for _, env := range p.Environments {
		files, err := EnvironmentFiles(p, env)
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
	}
	return out, nil
}

// EnvironmentFiles is the environment's Alertmanager routing, which reads
// every team with a target there; none for an environment without targets.
func EnvironmentFiles(p *plan.Plan, env *plan.Environment) ([]write.File, error) {
	if len(p.TargetsIn(env.Name)) == 0 {
		return nil, nil
	}
	b, err := alertmanagerConfig(p, env)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", AlertmanagerPath(env.Name), err)
	}
	return []write.File{{Path: AlertmanagerPath(env.Name), Bytes: b}}, nil
}

// groupsOf returns the rule groups of one target in file order: one per SLO,
// then infra, quality and cost. An SLO that cannot be rendered is reported as
// a diagnostic and left out.
func groupsOf(std *plan.Standard, t *plan.Target) ([]ruleGroup, map[string]ruleGroup, diag.List) {
	var groups []ruleGroup
	bySLO := map[string]ruleGroup{}
	var diags diag.List
	for _, slo := range t.Workload.SLOs {
		g, err := sloGroup(std, t, slo)
		if err != nil {
			diags = append(diags, sloDiag(t, slo, err))
			continue
		}
		groups = append(groups, g)
		bySLO[slo.Name] = g
	}
	if g, ok := infraGroup(std, t); ok {
		groups = append(groups, g)
	}
	if g, ok := qualityGroup(std, t); ok {
		groups = append(groups, g)
	}
	if g, ok := costGroup(t); ok {
		groups = append(groups, g)
	}
	return groups, bySLO, diags
}

// TargetFiles renders one target's rule file, its PrometheusRule and its
// promtool tests. They read the target and the standard only.
func TargetFiles(t *plan.Target, std *plan.Standard) ([]write.File, diag.List, error) {
	groups, bySLO, diags := groupsOf(std, t)
	if len(diags) > 0 {
		return nil, diags, nil
	}
	rules, err := encode.YAML(ruleFile{Groups: groups})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", RuleFilePath(t), err)
	}
	kube, err := prometheusRule(t, rules)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", RuleFilePath(t), err)
	}
	out := []write.File{
		{Path: RuleFilePath(t), Bytes: rules},
		{Path: KubeFilePath(t), Bytes: kube},
	}
	tests, err := unitTests(t, bySLO)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: unit tests: %w", RuleFilePath(t), err)
	}
	if tests != nil {
		out = append(out, write.File{Path: TestFilePath(t), Bytes: tests})
	}
	return out, nil, nil
}
