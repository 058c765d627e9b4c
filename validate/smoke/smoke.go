// Package smoke runs every Prometheus query of the rendered dashboards
// against a real Prometheus server and reports the ones that return
// nothing: a query that parses but matches no series is a bug that no
// parser, linter or golden file can see.
//
// Run takes the plan and its rendered artifacts. It serves synthetic
// exporters built from the plan alone (the backend catalogues, the
// environments' static labels and GPU sets, the workloads' selectors and
// models, the quality contract), never from the dashboards or rules, so
// that a query naming a series or label value no backend exposes finds
// nothing. It writes a Prometheus configuration that scrapes those
// exporters and loads the rendered rule files, starts the prometheus
// binary on loopback, and checks that
//
//   - every panel and variable query of every dashboard returns data;
//   - every vector selector of those queries and of every alert and
//     recording rule matches a series on its own ("or vector(0)" would
//     otherwise hide a misspelt name);
//   - every rule evaluates and every scrape succeeds;
//   - no alert is pending or firing, since the synthetic traffic is
//     healthy.
//
// The aiobs:* series the dashboards read come from the rendered recording
// rules, so a run also proves that rules and dashboards agree.
//
// The package is a test harness: it needs the prometheus binary (Debian's
// prometheus package) and talks only to 127.0.0.1.
package smoke

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render"
	"github.com/aiobs/aiobs/validate"
)

// Options configure one smoke run.
type Options struct {
	// Prometheus is the path of the prometheus binary.
	Prometheus string
	// Dir holds the configuration, the copied rule files, the TSDB and the
	// server's log; the caller removes it.
	Dir string
	// Environments limits the dashboards and rule files checked to these
	// environments; empty means all.
	Environments []string
	// ExpectEmpty names queries and rules that cannot have data in a
	// smoke run, each with the reason. They are checked once at the end
	// and reported if they do have data (a rule: if each of its selectors
	// matches), so that the list cannot go stale.
	ExpectEmpty map[Key]string
	// ExpectAlerts names alerts that are pending or firing although the
	// synthetic traffic is healthy, each with the reason. An alert listed
	// here that is not active is reported, like a stale ExpectEmpty entry.
	ExpectAlerts map[string]string
	// Wait bounds how long a query may stay empty after the server is
	// ready before it is reported; zero means 45 seconds. Empty queries
	// are reported sooner once no query has gained data for 5 seconds,
	// 10 seconds (10 scrapes and rule evaluations) after the start.
	Wait time.Duration
	// Logf receives progress lines; nil discards them.
	Logf func(format string, args ...any)
}

// Key names a query independently of its expression and environment: the
// artifact's path below the environment's grafana/dashboards/ or
// prometheus/ folder (assistants/aiobs--assistants--chat.json,
// rules/assistants/chat.yaml), the panel title ("$name" for a variable,
// "alert Name" or the record name for a rule) and the refId.
type Key struct {
	Artifact, Name, RefID string
}

// String formats a key as artifact › name › refId.
func (k Key) String() string {
	s := k.Artifact + " › " + k.Name
	if k.RefID != "" {
		s += " › " + k.RefID
	}
	return s
}

// Query is one dashboard query, rule expression or vector selector of
// either, as checked.
type Query struct {
	Key
	// Env is the environment of the artifact.
	Env string
	// Expr is the query with template variables and Grafana's macros
	// interpolated, as Grafana would send it, or the rule's expression.
	Expr string
	// Selector, when set, is one vector selector of Expr, checked on its
	// own: "or vector(0)", "or ... * 0" and "count(...) or vector(0)" keep
	// a query from being empty when a part of it matches nothing, so a
	// misspelt series there only shows when each selector must match.
	Selector string
	// Also counts the other uses of the selector in the environment's
	// queries and rules, which are not reported again.
	Also int
	// Reason is why the query is expected to be empty (ExpectEmpty).
	Reason string
	// Err is Prometheus's error for a query it refused, or a note on an
	// empty answer.
	Err string

	// rule marks a rule's expression: an alert's is empty while all is
	// well, so only its selectors are checked, or, when it is expected
	// to be empty, whether they all match.
	rule bool
	// probe is the PromQL sent to Prometheus.
	probe string
}

func (q Query) String() string {
	s := q.Env + "/" + q.Key.String() + ":\n\t"
	if q.Selector != "" {
		s += "selector " + q.Selector + " matches nothing in\n\t"
	}
	s += strings.ReplaceAll(q.Expr, "\n", "\n\t")
	if q.Also > 0 {
		s += fmt.Sprintf("\n\t(used %d more times in %s)", q.Also, q.Env)
	}
	if q.Reason != "" {
		s += "\n\texpected empty: " + q.Reason
	}
	if q.Err != "" {
		s += "\n\t" + q.Err
	}
	return s
}

// Report is what a smoke run found.
type Report struct {
	// Queries, Rules and Selectors count the dashboard queries, the rule
	// expressions and the distinct vector selectors in both.
	Queries, Rules, Selectors int
	// Empty are queries and selectors that returned nothing (or only NaN)
	// until the wait ran out: each is a dashboard or rule bug, or a
	// series the exporter wrongly lacks.
	Empty []Query
	// Failed are queries Prometheus refused.
	Failed []Query
	// Expected are ExpectEmpty queries that were empty, as expected.
	Expected []Query
	// Unexpected are ExpectEmpty queries that had data: the entry is stale.
	Unexpected []Query
	// Unused are ExpectEmpty keys that matched no query.
	Unused []Key
	// RuleErrors lists rules whose evaluation failed, and Targets scrapes
	// that failed, each with Prometheus's error.
	RuleErrors, Targets []string
	// Alerts are the alerts pending or firing at the end that
	// ExpectAlerts does not list, and QuietAlerts the ones it lists that
	// are not active.
	Alerts, QuietAlerts []string
	// Ready is how long the server took to become ready, and Settled how
	// long the queries were polled after that.
	Ready, Settled time.Duration
}

// OK reports whether the run found nothing wrong.
func (r *Report) OK() bool {
	return len(r.Empty)+len(r.Failed)+len(r.Unexpected)+len(r.Unused)+len(r.RuleErrors)+len(r.Targets)+len(r.Alerts)+len(r.QuietAlerts) == 0
}

// Problems describes everything wrong, one paragraph per finding.
func (r *Report) Problems() string {
	var b strings.Builder
	section := func(title string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(&b, "%s (%d):\n", title, len(items))
		for _, it := range items {
			fmt.Fprintf(&b, "  %s\n", it)
		}
	}
	str := func(qs []Query) []string {
		var out []string
		for _, q := range qs {
			out = append(out, q.String())
		}
		return out
	}
	section("queries with no data", str(r.Empty))
	section("queries Prometheus refused", str(r.Failed))
	section("expected-empty queries that have data (remove them from the list)", str(r.Unexpected))
	var unused []string
	for _, k := range r.Unused {
		unused = append(unused, k.String())
	}
	section("expected-empty entries that match no query", unused)
	section("rules that failed to evaluate", r.RuleErrors)
	section("scrapes that failed", r.Targets)
	section("alerts active on healthy traffic", r.Alerts)
	section("expected alerts that are not active (remove them from the list)", r.QuietAlerts)
	return b.String()
}

// Run starts Prometheus over the plan's synthetic exporters and the
// artifacts' rule files, runs every check and stops the server. An error
// means the run itself could not be done; what the checks found is in the
// report.
func Run(ctx context.Context, p *plan.Plan, artifacts []render.Artifact, opts Options) (*Report, error) {
	if opts.Wait == 0 {
		opts.Wait = 45 * time.Second
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	envs := opts.Environments
	if len(envs) == 0 {
		for _, e := range p.Environments {
			envs = append(envs, e.Name)
		}
	}
	queries, rules, err := collect(artifacts, envs, opts.ExpectEmpty)
	if err != nil {
		return nil, err
	}
	probes, rep := probes(queries)
	rep.Unused = unused(queries, opts.ExpectEmpty)

	exp, err := newExporter(p, time.Now)
	if err != nil {
		return nil, err
	}
	srv, err := exp.listen()
	if err != nil {
		return nil, err
	}
	defer srv.Close()

	var ruleFiles []string
	for _, a := range rules {
		b, err := fastRules(a.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.Path, err)
		}
		name := filepath.Join(opts.Dir, "rules", filepath.FromSlash(a.Path))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(name, b, 0o644); err != nil {
			return nil, err
		}
		ruleFiles = append(ruleFiles, name)
	}
	cfg, err := config(srv.Addr(), exp.targets(), ruleFiles)
	if err != nil {
		return nil, err
	}
	cfgFile := filepath.Join(opts.Dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, cfg, 0o644); err != nil {
		return nil, err
	}

	start := time.Now()
	prom, err := startPrometheus(ctx, opts.Prometheus, cfgFile, opts.Dir)
	if err != nil {
		return nil, err
	}
	defer prom.stop()
	rep.Ready = time.Since(start)
	opts.Logf("prometheus ready after %s: %d dashboard queries, %d rules, %d distinct selectors; %d rule files, %d scrape targets",
		rep.Ready.Round(time.Millisecond), rep.Queries, rep.Rules, rep.Selectors, len(ruleFiles), len(exp.targets()))

	tm := timing{Every: time.Second, Min: 10 * time.Second, Stable: 5 * time.Second, Max: opts.Wait}
	if err := check(ctx, prom.api, probes, tm, rep); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, prom.logTail())
	}
	if rep.RuleErrors, err = prom.api.ruleErrors(ctx); err != nil {
		return nil, err
	}
	if rep.Targets, err = prom.api.targetErrors(ctx); err != nil {
		return nil, err
	}
	active, err := prom.api.activeAlerts(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range active {
		if _, ok := opts.ExpectAlerts[a.name]; !ok {
			rep.Alerts = append(rep.Alerts, a.String())
		}
	}
	for _, name := range slices.Sorted(maps.Keys(opts.ExpectAlerts)) {
		if !slices.ContainsFunc(active, func(a alert) bool { return a.name == name }) {
			rep.QuietAlerts = append(rep.QuietAlerts, name+": "+opts.ExpectAlerts[name])
		}
	}
	return rep, nil
}

// collect lists the Prometheus queries of every dashboard and the
// expressions of every rule of the environments, and their rule files.
func collect(artifacts []render.Artifact, envs []string, expect map[Key]string) ([]Query, []render.Artifact, error) {
	var queries []Query
	var rules []render.Artifact
	for _, a := range artifacts {
		env, rest, ok := strings.Cut(a.Path, "/")
		if !ok || !slices.Contains(envs, env) {
			continue
		}
		switch {
		case strings.HasPrefix(rest, "prometheus/rules/") && strings.HasSuffix(rest, ".yaml"):
			rules = append(rules, a)
			qs, err := ruleQueries(a.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", a.Path, err)
			}
			for _, q := range qs {
				q.Artifact = strings.TrimPrefix(rest, "prometheus/")
				q.Env = env
				q.Reason = expect[q.Key]
				queries = append(queries, q)
			}
		case strings.HasPrefix(rest, "grafana/dashboards/") && strings.HasSuffix(rest, ".json"):
			qs, err := validate.DashboardQueries(a.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", a.Path, err)
			}
			for _, q := range qs {
				k := Key{Artifact: strings.TrimPrefix(rest, "grafana/dashboards/"), Name: q.Panel, RefID: q.RefID}
				queries = append(queries, Query{Key: k, Env: env, Expr: variableExpr(q), Reason: expect[k]})
			}
		}
	}
	if !slices.ContainsFunc(queries, func(q Query) bool { return !q.rule }) {
		return nil, nil, fmt.Errorf("no dashboard queries in environments %s", strings.Join(envs, ", "))
	}
	return queries, rules, nil
}

// variableExpr is the query to run for a dashboard query. For a
// label_values variable it groups the selector by the label, so that the
// query only has data when the series carry the label the variable lists.
func variableExpr(q validate.Query) string {
	if !strings.HasPrefix(q.Panel, "$") {
		return q.Expanded
	}
	e := strings.TrimSpace(q.Expr)
	if !strings.HasPrefix(e, "label_values(") || !strings.HasSuffix(e, ")") {
		return q.Expanded
	}
	i := strings.LastIndex(e, ",")
	if i < 0 {
		return q.Expanded
	}
	label := strings.TrimSpace(e[i+1 : len(e)-1])
	// vector(1) has no labels, so "unless on (label)" drops exactly the
	// group of series without the label.
	return "group by (" + label + ") (" + q.Expanded + ") unless on (" + label + ") vector(1)"
}

// ruleQueries are the expressions of a rule file's alerts and records, as
// queries named by the rule.
func ruleQueries(b []byte) ([]Query, error) {
	var f struct {
		Groups []struct {
			Rules []struct {
				Record string `yaml:"record"`
				Alert  string `yaml:"alert"`
				Expr   string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("read rule file: %w", err)
	}
	var out []Query
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			name := r.Record
			if r.Alert != "" {
				name = "alert " + r.Alert
			}
			out = append(out, Query{Key: Key{Name: name}, Expr: r.Expr, rule: true})
		}
	}
	return out, nil
}

// probes are the checks to run: each dashboard query, each distinct
// vector selector (per environment) of the queries and rules not expected
// to be empty, and each expected-empty query or rule. The report counts
// them.
func probes(queries []Query) ([]Query, *Report) {
	rep := &Report{}
	var out, sels []Query
	seen := map[[2]string]int{}
	p := parser.NewParser(parser.Options{})
	for _, q := range queries {
		if q.rule {
			rep.Rules++
		} else {
			rep.Queries++
		}
		var vss []string
		if e, err := p.ParseExpr(q.Expr); err == nil {
			parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
				if vs, ok := n.(*parser.VectorSelector); ok {
					// The selector now: an offset or @ reaches back
					// before a smoke run began.
					bare := *vs
					bare.OriginalOffset, bare.Offset, bare.Timestamp, bare.StartOrEnd = 0, 0, nil, 0
					vss = append(vss, bare.String())
				}
				return nil
			})
		}
		switch {
		case q.Reason != "" && q.rule:
			// Expected to be empty: the rule still reads a series that
			// nothing serves, so not all of its selectors match.
			var parts []string
			for _, s := range vss {
				parts = append(parts, "count("+s+")")
			}
			q.probe = strings.Join(parts, " and on () ")
			if q.probe == "" {
				q.probe = q.Expr
			}
			out = append(out, q)
			continue
		case q.Reason != "":
			q.probe = q.Expr
			out = append(out, q)
			continue
		case !q.rule:
			q.probe = q.Expr
			out = append(out, q)
		}
		for _, s := range vss {
			k := [2]string{q.Env, s}
			if i, ok := seen[k]; ok {
				sels[i].Also++
				continue
			}
			seen[k] = len(sels)
			sq := q
			sq.Selector, sq.probe = s, "count("+s+")"
			sels = append(sels, sq)
		}
	}
	rep.Selectors = len(sels)
	return append(out, sels...), rep
}

// unused are the expected-empty keys no query has.
func unused(queries []Query, expect map[Key]string) []Key {
	var out []Key
	for k := range expect {
		if !slices.ContainsFunc(queries, func(q Query) bool { return q.Key == k }) {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b Key) int { return strings.Compare(a.String(), b.String()) })
	return out
}
