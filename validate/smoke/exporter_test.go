package smoke

import (
	"context"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/panels"
	"github.com/aiobs/aiobs/render"
)

// example compiles and renders the bundled example, once per test binary
// (compiling takes seconds under the race detector); nothing changes
// either.
func example(t *testing.T) (*plan.Plan, []render.Artifact) {
	t.Helper()
	r := exampleOnce()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.p, slices.Clone(r.arts)
}

type rendered struct {
	p    *plan.Plan
	arts []render.Artifact
	err  error
}

var exampleOnce = sync.OnceValue(func() rendered {
	p, err := compile.Compile(context.Background(), "../../examples", compile.Options{})
	if err != nil {
		return rendered{err: err}
	}
	arts, err := render.Render(p)
	return rendered{p, arts, err}
})

// scraped reads every endpoint of the exporter through its HTTP handler
// and the client library's strict text parser, and returns the series as
// a scrape stores them: target labels attached by the endpoint's job's
// honor_labels rule, job defaulting to the scrape job's name.
func scraped(t *testing.T, e *exporter) []labels.Labels {
	t.Helper()
	honor := map[string]bool{jobDCGMHonored: true, jobQuality: true}
	var out []labels.Labels
	for _, ep := range e.targets() {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest("GET", ep.path, nil))
		if rec.Code != 200 {
			t.Fatalf("%s: HTTP %d", ep.path, rec.Code)
		}
		parser := expfmt.NewTextParser(model.LegacyValidation)
		fams, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
		if err != nil {
			t.Fatalf("%s: the exposition does not parse: %v", ep.path, err)
		}
		target := map[string]string{"job": ep.job}
		for k, v := range ep.labels {
			target[k] = v
		}
		for name, mf := range fams {
			for _, m := range mf.GetMetric() {
				own := map[string]string{}
				for _, lp := range m.GetLabel() {
					own[lp.GetName()] = lp.GetValue()
				}
				for k, v := range target {
					switch {
					case own[k] == "":
						own[k] = v
					case !honor[ep.job]:
						own["exported_"+k] = own[k]
						own[k] = v
					}
				}
				add := func(suffix string, extra ...string) {
					ls := map[string]string{"__name__": name + suffix}
					for k, v := range own {
						ls[k] = v
					}
					for i := 0; i+1 < len(extra); i += 2 {
						ls[extra[i]] = extra[i+1]
					}
					out = append(out, labels.FromMap(ls))
				}
				switch mf.GetType().String() {
				case "HISTOGRAM":
					for _, b := range m.GetHistogram().GetBucket() {
						add("_bucket", "le", strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64))
					}
					add("_bucket", "le", "+Inf")
					add("_sum")
					add("_count")
				case "SUMMARY":
					add("", "quantile", "0.5")
					add("_sum")
					add("_count")
				default:
					add("")
				}
			}
		}
	}
	return out
}

// matches reports whether any series satisfies every matcher.
func matches(series []labels.Labels, ms []*labels.Matcher) bool {
	return slices.ContainsFunc(series, func(ls labels.Labels) bool {
		for _, m := range ms {
			if !m.Matches(ls.Get(m.Name)) {
				return false
			}
		}
		return true
	})
}

// stored answers probes from the exporter's series alone, without
// Prometheus: a probe has data when each of its vector selectors matches
// a series. That is exact for a selector's count(...) probe and, for a
// whole query, says whether it can have data at all. Recording rules'
// outputs are not there, so aiobs:* selectors never match.
type stored []labels.Labels

func (s stored) query(_ context.Context, expr string) (answer, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return answer{}, refused{"bad_data: " + err.Error()}
	}
	ok := true
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, is := n.(*parser.VectorSelector); is && !matches(s, vs.LabelMatchers) {
			ok = false
		}
		return nil
	})
	if !ok {
		return answer{}, nil
	}
	return answer{Samples: 1}, nil
}

func TestExporterExposesEveryCatalogueSeries(t *testing.T) {
	p, _ := example(t)
	e, err := newExporter(p, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	series := scraped(t, e)
	sel := func(name string, ms ...plan.Matcher) []*labels.Matcher {
		out := []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "__name__", name)}
		for _, m := range ms {
			typ := map[string]labels.MatchType{"=": labels.MatchEqual, "!=": labels.MatchNotEqual, "=~": labels.MatchRegexp, "!~": labels.MatchNotRegexp}[m.Op]
			out = append(out, labels.MustNewMatcher(typ, m.Name, m.Value))
		}
		return out
	}
	for _, tg := range p.Targets {
		where := tg.Env.Name + "/" + tg.Team.Name + "/" + tg.Workload.Name
		for stage, s := range tg.Backend.Stages {
			suffixes := []string{""}
			if s.Type == "histogram" {
				suffixes = []string{"_bucket", "_sum", "_count"}
			}
			for _, suf := range suffixes {
				// The workload's part of the series, as the plan defines it.
				if !matches(series, sel(s.Name+suf, tg.Matchers(s)...)) {
					t.Errorf("%s: stage %s: no series %s%s%s", where, stage, s.Name, suf, plan.FormatMatchers(tg.Matchers(s)))
				}
			}
		}
		env := []plan.Matcher{}
		for _, l := range tg.Env.Labels {
			env = append(env, plan.Matcher{Name: l.Name, Op: "=", Value: l.Value})
		}
		g := tg.Env.GPU
		for _, name := range []string{g.Util, g.FBUsed, g.FBFree, g.Power, g.Temp, g.MemTemp, g.SMActive, g.XID, g.ECCDBE, g.ClockEvents} {
			if name == "" || gpus(tg) == 0 {
				continue
			}
			// Each of the workload's pods holds a GPU, named in pod or,
			// where the scrape renamed it, in exported_pod.
			for i := range podCount(tg) {
				pod := podName(tg, i)
				if !matches(series, sel(name, append(env, plan.Matcher{Name: "pod", Op: "=", Value: pod})...)) &&
					!matches(series, sel(name, append(env, plan.Matcher{Name: "exported_pod", Op: "=", Value: pod})...)) {
					t.Errorf("%s: no %s for pod %s", where, name, pod)
				}
			}
		}
		k := p.Standard.Contract
		contract := []string{k.EvalScore, k.EvalBaseline, k.EvalLastRun, k.DriftScore, k.DriftThreshold}
		if tg.Workload.Agent {
			contract = append(contract, k.ToolCalls)
		}
		for _, name := range contract {
			if !matches(series, sel(name, plan.Matcher{Name: k.TeamLabel, Op: "=", Value: tg.Team.Name}, plan.Matcher{Name: k.WorkloadLabel, Op: "=", Value: tg.Workload.Name})) {
				t.Errorf("%s: no %s", where, name)
			}
		}
	}
}

// TestExporterServesTheSpanMetricsTheTracesRowReads checks that Tempo's
// metrics-generator endpoint serves every pipeline span the workload
// dashboard's traces row reads, for every target.
func TestExporterServesTheSpanMetricsTheTracesRowReads(t *testing.T) {
	if d := cmp.Diff(panels.SemanticSpans(), semanticSpans); d != "" {
		t.Fatalf("the exporter's pipeline spans differ from the traces row's (-panels +exporter):\n%s", d)
	}
	p, _ := example(t)
	e, err := newExporter(p, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	series := scraped(t, e)
	for _, tg := range p.Targets {
		for _, span := range semanticSpans {
			for _, name := range []string{panels.SpanMetricsLatency + "_bucket", panels.SpanMetricsLatency + "_count", "traces_spanmetrics_calls_total"} {
				ms := []*labels.Matcher{
					labels.MustNewMatcher(labels.MatchEqual, "__name__", name),
					labels.MustNewMatcher(labels.MatchEqual, "service", tg.Workload.Name),
					labels.MustNewMatcher(labels.MatchEqual, "span_name", span),
				}
				for _, l := range tg.Env.Labels {
					ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, l.Name, l.Value))
				}
				if !matches(series, ms) {
					t.Errorf("%s/%s/%s: no %s for span %s", tg.Env.Name, tg.Team.Name, tg.Workload.Name, name, span)
				}
			}
		}
	}
}

func TestExporterCountersGrow(t *testing.T) {
	p, _ := example(t)
	now := time.Unix(1_800_000_000, 0)
	e, err := newExporter(p, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(e.targets(), func(ep *endpoint) bool { return ep.job == jobServing })
	if i < 0 {
		t.Fatal("the exporter serves no serving pod")
	}
	path := e.targets()[i].path
	body := func() string {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Body.String()
	}
	before := body()
	now = now.Add(15 * time.Second)
	after := body()
	bl, al := strings.Split(before, "\n"), strings.Split(after, "\n")
	if len(bl) != len(al) {
		t.Fatalf("the series changed between scrapes: %d lines, then %d", len(bl), len(al))
	}
	grew := 0
	for i := range bl {
		if strings.Contains(bl[i], "_total{") || strings.Contains(bl[i], "_count{") {
			b, _ := strconv.ParseFloat(bl[i][strings.LastIndex(bl[i], " ")+1:], 64)
			a, _ := strconv.ParseFloat(al[i][strings.LastIndex(al[i], " ")+1:], 64)
			if a <= b {
				t.Errorf("counter did not grow in 15s: %s, then %s", bl[i], al[i])
			}
			grew++
		}
	}
	if grew == 0 {
		t.Fatalf("%s serves no counter", path)
	}
}

func TestExporterRefusesUnknownPaths(t *testing.T) {
	p, _ := example(t)
	e, err := newExporter(p, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 404 {
		t.Errorf("GET /metrics: HTTP %d, want 404", rec.Code)
	}
}

// TestCheckReportsAQueryThatMatchesNothing proves the checker catches the
// bug the smoke test exists for, without Prometheus: the canary dashboard's
// misspelt preemptions query (vllm:num_preemptions, which no vLLM serves)
// is reported, both as a query and as a selector, and its correctly spelt
// twin is not.
func TestCheckReportsAQueryThatMatchesNothing(t *testing.T) {
	p, arts := example(t)
	e, err := newExporter(p, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	queries, _, err := collect([]render.Artifact{canaryDashboard(t, arts)}, []string{"prod"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var panels []Query
	for _, q := range queries {
		if !strings.HasPrefix(q.Name, "$") {
			panels = append(panels, q)
		}
	}
	ps, _ := probes(panels)
	var rep Report
	if err := check(context.Background(), stored(scraped(t, e)), ps, fast, &rep); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range rep.Empty {
		got = append(got, q.Key.String()+" "+q.Selector)
	}
	want := []string{
		canaryKey.String() + " ",
		canaryKey.String() + ` vllm:num_preemptions{cluster="prod-eu-1",instance=~".*",job="chat-vllm",model_name=~"llama-3.1-8b-instruct"}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("empty queries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(rep.Problems(), "sum(rate(vllm:num_preemptions{") {
		t.Errorf("the report does not show the interpolated query:\n%s", rep.Problems())
	}
}
