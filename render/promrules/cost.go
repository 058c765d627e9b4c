package promrules

import (
	"strconv"

	"github.com/aiobs/aiobs/compile/plan"
)

// Cost recordings. Each carries exactly the labels team, workload, env and
// model (the decided model), so the cost panels read a handful of
// pre-computed series instead of re-deriving spend from the catalogue at
// every refresh, and the three join without on().
const (
	// RecCostPerHour is the spend in USD per hour at the current rate:
	// GPUs × gpuHourUSD for a self-hosted model (busy or idle), or the
	// last 5m's input and output tokens × their prices per million tokens,
	// scaled to an hour, for a token-priced one.
	RecCostPerHour = "aiobs:cost_usd_per_hour:rate5m"
	// RecRequestsRate is finished requests per second over the last 5m.
	RecRequestsRate = "aiobs:requests:rate5m"
	// RecCostPerRequest is RecCostPerHour / 3600 / RecRequestsRate, absent
	// while no request finishes rather than infinite.
	RecCostPerRequest = "aiobs:cost_usd_per_request:rate5m"
)

// LabelModel is the label the cost recordings name the decided model in.
const LabelModel = "model"

// CostGroupName names the cost recordings' group.
func CostGroupName(t *plan.Target) string { return groupPrefix(t) + "--cost" }

// costGroup renders the cost recordings of a target that has a cost
// decision the catalogue can price: a GPU price always, token prices only
// where the backend counts prompt and generated tokens. The per-request
// recordings need a requests or successes stage. Prices are the
// decision's decimal text, never reformatted, so the rule says exactly
// what the decision says. The group runs at the global interval: nothing
// alerts on it.
func costGroup(t *plan.Target) (ruleGroup, bool) {
	k := t.Workload.Cost
	be := t.Backend
	stage := func(name string) (plan.Series, bool) {
		if be == nil {
			return plan.Series{}, false
		}
		s, ok := be.Stages[name]
		return s, ok
	}
	// Every selector is summed to one series without labels, as in the
	// SLO recordings: the identity comes from the rule's labels and
	// whatever the backend splits its series by (SumBy) is summed away.
	rate := func(s plan.Series, suffix string) string {
		return "sum(rate(" + t.Selector(s, suffix) + "[" + rateWindow + "]))"
	}
	var perHour string
	switch {
	case k.GPUHourUSD != "":
		perHour = "vector(" + strconv.Itoa(k.GPUs) + " * " + k.GPUHourUSD + ")"
	case k.InputPerMTokUSD != "" && k.OutputPerMTokUSD != "":
		in, okIn := stage("promptTokens")
		gen, okGen := stage("generationTokens")
		if !okIn || !okGen {
			return ruleGroup{}, false
		}
		perHour = "(" + rate(in, tokenSuffix(in)) + " * " + k.InputPerMTokUSD + " + " +
			rate(gen, tokenSuffix(gen)) + " * " + k.OutputPerMTokUSD + ") / 1000000 * 3600"
	default:
		return ruleGroup{}, false
	}

	ls := map[string]string{LabelTeam: t.Team.Name, LabelWorkload: t.Workload.Name, LabelEnv: t.Env.Name, LabelModel: t.Workload.Model}
	sel := selectorOf(ls)
	rules := []rule{{Record: RecCostPerHour, Expr: perHour, Labels: cloneLabels(ls)}}
	if reqs := requestsRate(t, rate, stage); reqs != "" {
		rules = append(rules,
			rule{Record: RecRequestsRate, Expr: reqs, Labels: cloneLabels(ls)},
			rule{Record: RecCostPerRequest, Expr: RecCostPerHour + sel + " / 3600 / (" + RecRequestsRate + sel + " > 0)", Labels: cloneLabels(ls)})
	}
	return ruleGroup{Name: CostGroupName(t), Rules: rules}, true
}

// tokenSuffix counts a token stage's tokens: a counter's value, or the
// _sum of a histogram or summary of tokens per request.
func tokenSuffix(s plan.Series) string {
	if s.Type == "histogram" || s.Type == "summary" {
		return "_sum"
	}
	return ""
}

// requestsRate is finished requests per second: the requests stage, or
// successes plus errors (zero-filled until the first error) where the
// backend counts them apart; "" when it counts neither.
func requestsRate(t *plan.Target, rate func(plan.Series, string) string, stage func(string) (plan.Series, bool)) string {
	events := func(s plan.Series) string {
		if s.Type == "histogram" || s.Type == "summary" {
			return rate(s, "_count")
		}
		return rate(s, "")
	}
	if s, ok := stage("requests"); ok {
		return events(s)
	}
	succ, ok := stage("successes")
	if !ok {
		return ""
	}
	if e, ok := stage("errors"); ok {
		return events(succ) + " + (" + events(e) + " or 0 * " + events(succ) + ")"
	}
	return events(succ)
}
