package promrules

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/panels"
)

// exampleTarget is the example's target of a workload in an environment.
func exampleTarget(t *testing.T, team, workload, env string) *plan.Target {
	t.Helper()
	for _, tg := range examplePlan(t).Targets {
		if tg.Team.Name == team && tg.Workload.Name == workload && tg.Env.Name == env {
			return tg
		}
	}
	t.Fatalf("the example has no target %s/%s in %s", team, workload, env)
	return nil
}

func exprs(g ruleGroup) map[string]string {
	out := map[string]string{}
	for _, r := range g.Rules {
		out[r.Record] = r.Expr
	}
	return out
}

func TestCostRecordsTheDecidedPricesExactly(t *testing.T) {
	chat := exampleTarget(t, "assistants", "chat", "prod")
	g, ok := costGroup(chat)
	if !ok {
		t.Fatal("no cost group for a GPU-priced workload")
	}
	if g.Name != "aiobs--assistants--chat--prod--cost" {
		t.Errorf("group name %q", g.Name)
	}
	if got := exprs(g)[RecCostPerHour]; got != "vector(2 * 2.10)" {
		t.Errorf("self-hosted per hour = %q, want GPUs × the decided price as written", got)
	}

	sum := exampleTarget(t, "search", "summarizer", "prod")
	g, ok = costGroup(sum)
	if !ok {
		t.Fatal("no cost group for a token-priced workload")
	}
	e := exprs(g)
	hour := e[RecCostPerHour]
	// 0.60, not 0.6: the decision's text, never a float printed again.
	for _, want := range []string{"[5m])) * 0.15 + ", "[5m])) * 0.60) / 1000000 * 3600", `requested_model="mistral-7b-instruct"`} {
		if !strings.Contains(hour, want) {
			t.Errorf("token-priced per hour %q lacks %q", hour, want)
		}
	}
	sel := `{env="prod", model="mistral-7b-instruct", team="search", workload="summarizer"}`
	if got, want := e[RecCostPerRequest], RecCostPerHour+sel+" / 3600 / ("+RecRequestsRate+sel+" > 0)"; got != want {
		t.Errorf("per request = %q, want %q (guarded against no requests)", got, want)
	}
	for _, r := range g.Rules {
		want := map[string]string{"team": "search", "workload": "summarizer", "env": "prod", "model": "mistral-7b-instruct"}
		if diff := cmp.Diff(want, r.Labels); diff != "" {
			t.Errorf("%s labels (-want +got):\n%s", r.Record, diff)
		}
	}
}

func TestCostNeedsADecisionTheCatalogueCanPrice(t *testing.T) {
	chat := exampleTarget(t, "assistants", "chat", "prod")
	for name, edit := range map[string]func(*plan.Workload, *plan.Backend){
		"no cost decision": func(w *plan.Workload, _ *plan.Backend) { w.Cost = plan.Cost{} },
		"token prices without token counters": func(w *plan.Workload, be *plan.Backend) {
			w.Cost = plan.Cost{InputPerMTokUSD: "1", OutputPerMTokUSD: "2"}
			delete(be.Stages, "promptTokens")
		},
	} {
		t.Run(name, func(t *testing.T) {
			w := *chat.Workload
			be := *chat.Backend
			be.Stages = map[string]plan.Series{}
			for k, v := range chat.Backend.Stages {
				be.Stages[k] = v
			}
			edit(&w, &be)
			if g, ok := costGroup(&plan.Target{Team: chat.Team, Workload: &w, Env: chat.Env, Backend: &be}); ok {
				t.Errorf("rendered %+v", g)
			}
		})
	}
	// Without a request counter the spend is still recorded, but not per
	// request.
	w := *chat.Workload
	be := *chat.Backend
	be.Stages = map[string]plan.Series{}
	for k, v := range chat.Backend.Stages {
		if k != "requests" && k != "successes" {
			be.Stages[k] = v
		}
	}
	g, ok := costGroup(&plan.Target{Team: chat.Team, Workload: &w, Env: chat.Env, Backend: &be})
	if !ok || len(g.Rules) != 1 || g.Rules[0].Record != RecCostPerHour {
		t.Errorf("without requests: %+v, %t; want only %s", g.Rules, ok, RecCostPerHour)
	}
}

// The cost panels name the recordings these rules write; a rename on one
// side only would leave every cost panel empty.
func TestCostPanelsReadTheseRecordings(t *testing.T) {
	if panels.CostPerHourRecord != RecCostPerHour || panels.CostPerRequestRecord != RecCostPerRequest {
		t.Errorf("panels read %s and %s; the rules record %s and %s",
			panels.CostPerHourRecord, panels.CostPerRequestRecord, RecCostPerHour, RecCostPerRequest)
	}
}
