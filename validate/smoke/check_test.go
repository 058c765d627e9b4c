package smoke

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/validate"
)

// scripted answers each probe by name: the answer from the given round on
// (counting from 1), or refusal, or a transport failure.
type scripted struct {
	mu     sync.Mutex
	rounds map[string]int
	from   map[string]int
	nan    map[string]bool
	refuse map[string]bool
	fail   bool
}

func (s *scripted) query(_ context.Context, expr string) (answer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rounds[expr]++
	switch {
	case s.fail:
		return answer{}, errors.New("connection refused")
	case s.refuse[expr]:
		return answer{}, refused{"bad_data: parse error"}
	case s.nan[expr]:
		return answer{Samples: 2, NaN: 2}, nil
	}
	if n, ok := s.from[expr]; ok && s.rounds[expr] >= n {
		return answer{Samples: 1}, nil
	}
	return answer{}, nil
}

var fast = timing{Every: time.Millisecond, Min: 20 * time.Millisecond, Stable: 10 * time.Millisecond, Max: 2 * time.Second}

func names(qs []Query) []string {
	var out []string
	for _, q := range qs {
		out = append(out, q.Name)
	}
	return out
}

func TestCheckSortsQueriesByWhatTheyReturn(t *testing.T) {
	q := func(name string, expect string) Query {
		return Query{Key: Key{Artifact: "d.json", Name: name, RefID: "A"}, Env: "prod", Expr: name, Reason: expect, probe: name}
	}
	s := &scripted{
		rounds: map[string]int{},
		from:   map[string]int{"data": 1, "late": 4, "stale": 1},
		nan:    map[string]bool{"nan": true},
		refuse: map[string]bool{"refused": true},
	}
	var rep Report
	queries := []Query{q("data", ""), q("late", ""), q("empty", ""), q("nan", ""), q("refused", ""), q("stale", "why"), q("expected", "why")}
	if err := check(context.Background(), s, queries, fast, &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{
		"empty": names(rep.Empty), "failed": names(rep.Failed),
		"expected": names(rep.Expected), "unexpected": names(rep.Unexpected),
	}
	want := map[string][]string{
		"empty": {"empty", "nan"}, "failed": {"refused"},
		"expected": {"expected"}, "unexpected": {"stale"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("report (-want +got):\n%s", d)
	}
	if s.rounds["late"] < 4 {
		t.Errorf("a query that gains data in round 4 was asked %d times", s.rounds["late"])
	}
	if s.rounds["stale"] != 1 || s.rounds["expected"] != 1 {
		t.Errorf("expected-empty queries were asked %d and %d times, want once each", s.rounds["stale"], s.rounds["expected"])
	}
	if s.rounds["data"] != 1 {
		t.Errorf("a query with data was asked %d times, want once", s.rounds["data"])
	}
	if rep.Empty[1].Err != "every sample is NaN" {
		t.Errorf("the NaN-only query is reported with %q", rep.Empty[1].Err)
	}
}

func TestCheckGivesUpAtMax(t *testing.T) {
	s := &scripted{rounds: map[string]int{}}
	tm := timing{Every: time.Millisecond, Min: time.Hour, Stable: time.Hour, Max: 50 * time.Millisecond}
	start := time.Now()
	var rep Report
	if err := check(context.Background(), s, []Query{{Key: Key{Name: "empty"}, probe: "empty"}}, tm, &rep); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("check took %s with Max 50ms", d)
	}
	if len(rep.Empty) != 1 {
		t.Errorf("Empty = %v, want the one query", rep.Empty)
	}
}

func TestCheckReturnsTransportFailures(t *testing.T) {
	s := &scripted{rounds: map[string]int{}, fail: true}
	var rep Report
	err := check(context.Background(), s, []Query{{Key: Key{Name: "a"}, probe: "a"}}, fast, &rep)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("check = %v, want the transport error", err)
	}
}

func TestProbesCheckEverySelectorOnce(t *testing.T) {
	queries := []Query{
		{Key: Key{"d.json", "Error ratio", "A"}, Env: "prod",
			Expr: `(sum(rate(errs{job="a"}[5m])) or vector(0)) / sum(rate(reqs{job="a"}[5m]))`},
		{Key: Key{"d.json", "Requests", "A"}, Env: "prod", Expr: `sum(rate(reqs{job="a"}[5m]))`},
		{Key: Key{"d.json", "Requests", "A"}, Env: "dev", Expr: `sum(rate(reqs{job="a"}[5m]))`},
		{Key: Key{"rules/t/w.yaml", "alert Rising", ""}, Env: "prod", rule: true,
			Expr: `avg_over_time(x[1h]) > 2 * avg_over_time(x[1d] offset 1h)`},
		{Key: Key{"rules/t/w.yaml", "alert Gone", ""}, Env: "prod", rule: true, Reason: "why",
			Expr: `y > 0 and on () up == 1`},
	}
	ps, rep := probes(queries)
	var got []string
	for _, p := range ps {
		got = append(got, p.Env+" "+p.Key.String()+": "+p.probe)
	}
	want := []string{
		`prod d.json › Error ratio › A: (sum(rate(errs{job="a"}[5m])) or vector(0)) / sum(rate(reqs{job="a"}[5m]))`,
		`prod d.json › Requests › A: sum(rate(reqs{job="a"}[5m]))`,
		`dev d.json › Requests › A: sum(rate(reqs{job="a"}[5m]))`,
		`prod rules/t/w.yaml › alert Gone: count(y) and on () count(up)`,
		`prod d.json › Error ratio › A: count(errs{job="a"})`,
		`prod d.json › Error ratio › A: count(reqs{job="a"})`,
		`dev d.json › Requests › A: count(reqs{job="a"})`,
		`prod rules/t/w.yaml › alert Rising: count(x)`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("probes (-want +got):\n%s", d)
	}
	if rep.Queries != 3 || rep.Rules != 2 || rep.Selectors != 4 {
		t.Errorf("counts: %d queries, %d rules, %d selectors; want 3, 2, 4", rep.Queries, rep.Rules, rep.Selectors)
	}
	if ps[5].Also != 1 || ps[7].Also != 1 {
		t.Errorf("reqs in prod used again %d times, x %d times; want 1 and 1", ps[5].Also, ps[7].Also)
	}
}

func TestVariableExprNeedsTheLabel(t *testing.T) {
	got := variableExpr(validate.Query{Panel: "$model", Expr: `label_values(m{job="a"}, model_name)`, Expanded: `m{job="a"}`})
	want := `group by (model_name) (m{job="a"}) unless on (model_name) vector(1)`
	if got != want {
		t.Errorf("variableExpr = %s, want %s", got, want)
	}
}
