package panels

import (
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

// The cost panels read only the cost recordings, never the catalogue's
// counters: the point of recording spend is that a cost panel stays cheap
// however long its range.
func TestCostPanelsReadOnlyTheCostRecordings(t *testing.T) {
	p := example(t)
	var team []*Context
	for _, tg := range p.Targets {
		c := &Context{Target: tg, Standard: &p.Standard}
		r, err := Cost(c)
		if err != nil {
			t.Fatal(err)
		}
		if tg.Team.Name == "search" && tg.Env.Name == "prod" {
			team = append(team, &Context{Target: tg, Standard: &p.Standard, Fixed: true})
		}
		checkCostRows(t, tg.Workload.Name, []Row{r}, `workload="`+tg.Workload.Name+`"`)
	}
	rows, err := TeamCost(team)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || len(rows[0].Panels) != 4 {
		t.Fatalf("team cost: %d rows, want one with 4 panels (both search workloads are priced and count requests)", len(rows))
	}
	checkCostRows(t, "search team", rows, "")
}

func checkCostRows(t *testing.T, name string, rows []Row, want string) {
	t.Helper()
	n := 0
	for _, r := range rows {
		for _, pn := range r.Panels {
			for _, e := range promExprs(t, pn) {
				n++
				expr, err := parser.NewParser(parser.Options{}).ParseExpr(e)
				if err != nil {
					t.Fatalf("%s: %q: %v", name, e, err)
				}
				for _, vs := range parser.ExtractSelectors(expr) {
					for _, m := range vs {
						if m.Name == "__name__" && m.Value != CostPerHourRecord && m.Value != CostPerRequestRecord {
							t.Errorf("%s: %q reads %s, not a cost recording", name, e, m.Value)
						}
					}
				}
				if !strings.Contains(e, want) || !strings.Contains(e, `env="`) || !strings.Contains(e, `team="`) {
					t.Errorf("%s: %q does not select its env, team and %s", name, e, want)
				}
			}
		}
	}
	if n == 0 {
		t.Errorf("%s: no cost query", name)
	}
}
