package slotest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/promrules"
)

// ruleGroup is one parsed group of a rendered rule file.
type ruleGroup struct {
	name     string
	interval time.Duration
	rules    []rulefmt.Rule
}

func newParser() parser.Parser { return parser.NewParser(parser.Options{}) }

// loadGroup parses a rendered rule file as Prometheus does and returns the
// named group.
func loadGroup(content []byte, name string) (ruleGroup, error) {
	gs, errs := rulefmt.Parse(content, false, model.LegacyValidation, newParser(), slog.New(slog.DiscardHandler))
	if err := errors.Join(errs...); err != nil {
		return ruleGroup{}, err
	}
	for _, g := range gs.Groups {
		if g.Name == name {
			iv := time.Duration(g.Interval)
			if iv == 0 {
				iv = time.Minute // Prometheus's default global interval
			}
			return ruleGroup{name: g.Name, interval: iv, rules: g.Rules}, nil
		}
	}
	return ruleGroup{}, fmt.Errorf("no rule group %s", name)
}

// buildRules turns the parsed rules into rules-engine rules. Alerting rules
// are marked restored, as promtool does, so that they fire from the first
// evaluation and write ALERTS.
func buildRules(g ruleGroup, p parser.Parser) ([]rules.Rule, error) {
	var out []rules.Rule
	for _, r := range g.rules {
		expr, err := p.ParseExpr(r.Expr)
		if err != nil {
			return nil, fmt.Errorf("group %s, rule %s%s: %w", g.name, r.Record, r.Alert, err)
		}
		if r.Record != "" {
			out = append(out, rules.NewRecordingRule(r.Record, expr, labels.FromMap(r.Labels)))
			continue
		}
		out = append(out, rules.NewAlertingRule(r.Alert, expr, time.Duration(r.For), time.Duration(r.KeepFiringFor),
			labels.FromMap(r.Labels), labels.FromMap(r.Annotations), labels.EmptyLabels(), "", true, slog.New(slog.DiscardHandler)))
	}
	return out, nil
}

// historyRules picks the rules whose past values other rules read through
// a range selector, with whatever they read in turn: during the preload
// only they need evaluating, since every other rule reads only the present.
func historyRules(rs []rules.Rule) []rules.Rule {
	byName := map[string][]rules.Rule{}
	for _, r := range rs {
		if _, ok := r.(*rules.RecordingRule); ok {
			byName[r.Name()] = append(byName[r.Name()], r)
		}
	}
	need := map[string]bool{}
	var queue []string
	for _, r := range rs {
		parser.Inspect(r.Query(), func(n parser.Node, _ []parser.Node) error {
			if ms, ok := n.(*parser.MatrixSelector); ok {
				if vs, ok := ms.VectorSelector.(*parser.VectorSelector); ok && !need[vs.Name] {
					need[vs.Name] = true
					queue = append(queue, vs.Name)
				}
			}
			return nil
		})
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		for _, r := range byName[name] {
			parser.Inspect(r.Query(), func(n parser.Node, _ []parser.Node) error {
				if vs, ok := n.(*parser.VectorSelector); ok && !need[vs.Name] {
					need[vs.Name] = true
					queue = append(queue, vs.Name)
				}
				return nil
			})
		}
	}
	var out []rules.Rule
	for _, r := range rs {
		if _, ok := r.(*rules.RecordingRule); ok && need[r.Name()] {
			out = append(out, r)
		}
	}
	return out
}

// observation is what the alerts of one tier did.
type observation struct {
	severity  string
	firstFire time.Duration // −1: never
	lastFire  time.Duration // −1: never
	// firedBefore says it fired before the incident began.
	firedBefore bool
}

// simulate replays one scenario: it writes the scenario's counters into a
// fresh TSDB, evaluates the history rules through the preload and the
// whole group from an hour before the incident, and judges what fired.
func simulate(ctx context.Context, t *plan.Target, slo *plan.SLO, m promrules.SLOMath, fx promrules.Fixture,
	sc promrules.Scenario, g ruleGroup, opts Options) (res Result, err error) {
	res = Result{Env: t.Env.Name, Team: t.Team.Name, Workload: t.Workload.Name, SLO: slo.Name,
		Scenario: sc.Name, Story: sc.Summary, After: -1}
	if sc.Skip != "" {
		res.Skipped, res.Pass, res.Story = sc.Skip, true, "-"
		return res, nil
	}
	start := time.Now()
	defer func() { res.Elapsed = time.Since(start) }()

	var dir string
	dir, err = os.MkdirTemp("", "aiobs-slotest-")
	if err != nil {
		return res, fmt.Errorf("slotest storage: %w", err)
	}
	defer os.RemoveAll(dir)
	topts := tsdb.DefaultOptions()
	topts.WALSegmentSize = -1 // nothing to recover: no write-ahead log
	topts.RetentionDuration = 0
	// One block range longer than any story keeps everything in the head.
	topts.MinBlockDuration = int64(30 * 24 * time.Hour / time.Millisecond)
	topts.MaxBlockDuration = topts.MinBlockDuration
	db, err := tsdb.Open(dir, nil, nil, topts, nil)
	if err != nil {
		return res, fmt.Errorf("slotest storage: %w", err)
	}
	defer db.Close()
	db.DisableCompactions()

	if err := writeCounters(ctx, db, fx, sc, opts.Scrape); err != nil {
		return res, err
	}

	p := newParser()
	engine := promql.NewEngine(promql.EngineOpts{
		// A 30d range over 5m recordings is 8,640 samples and the raw
		// counters add more; the engine's guard exists for shared servers.
		MaxSamples:               50_000_000,
		Timeout:                  time.Hour,
		LookbackDelta:            5 * time.Minute,
		NoStepSubqueryIntervalFn: func(int64) int64 { return int64(time.Minute / time.Millisecond) },
		Parser:                   p,
	})
	defer engine.Close()
	mopts := &rules.ManagerOptions{
		QueryFunc:    rules.EngineQueryFunc(engine, db),
		AppendableV2: db,
		Queryable:    db,
		Context:      ctx,
		NotifyFunc:   func(context.Context, string, ...*rules.Alert) {},
		Logger:       slog.New(slog.DiscardHandler),
		Parser:       p,
	}
	all, err := buildRules(g, p)
	if err != nil {
		return res, err
	}
	history := historyRules(all)
	full := rules.NewGroup(rules.GroupOptions{Name: g.name, Interval: g.interval, Rules: all, Opts: mopts})

	iv := g.interval
	origin := time.Unix(0, 0).UTC()
	// The group runs in full from an hour before the incident; before
	// that only the rules whose history later windows read are needed,
	// and they are backfilled with one range query each.
	watchFrom := max(iv, (sc.Start-time.Hour)/iv*iv)
	if err := backfill(ctx, engine, db, history, origin.Add(iv), origin.Add(watchFrom-iv), iv); err != nil {
		return res, err
	}
	obs := map[string]*observation{}
	for ts := watchFrom; ts <= sc.End; ts += iv {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		full.Eval(ctx, origin.Add(ts))
		if err := lastError(full, ts); err != nil {
			return res, err
		}
		for _, ar := range full.AlertingRules() {
			for _, a := range ar.ActiveAlerts() {
				if a.State != rules.StateFiring {
					continue
				}
				tier := a.Labels.Get(promrules.LabelBurnTier)
				o := obs[tier]
				if o == nil {
					o = &observation{severity: a.Labels.Get(promrules.LabelSeverity), firstFire: -1, lastFire: -1}
					obs[tier] = o
				}
				if ts < sc.Start {
					o.firedBefore = true
					continue
				}
				if o.firstFire < 0 {
					o.firstFire = ts - sc.Start
				}
				o.lastFire = ts
			}
		}
	}
	judge(&res, m, sc, obs, iv)
	return res, nil
}

// backfill writes what the recording rules would have recorded at each
// step from start to end, in order, as promtool's create-blocks-from rules
// does: the rule's expression as a range query, relabelled as the rules
// engine relabels an instant result.
func backfill(ctx context.Context, engine *promql.Engine, db *tsdb.DB, rs []rules.Rule, start, end time.Time, step time.Duration) error {
	if end.Before(start) {
		return nil
	}
	for _, r := range rs {
		rr, ok := r.(*rules.RecordingRule)
		if !ok {
			continue
		}
		q, err := engine.NewRangeQuery(ctx, db, nil, rr.Query().String(), start, end, step)
		if err != nil {
			return fmt.Errorf("backfill %s: %w", rr.Name(), err)
		}
		res := q.Exec(ctx)
		if res.Err != nil {
			q.Close()
			return fmt.Errorf("backfill %s: %w", rr.Name(), res.Err)
		}
		matrix, err := res.Matrix()
		if err != nil {
			q.Close()
			return fmt.Errorf("backfill %s: %w", rr.Name(), err)
		}
		app := db.AppenderV2(ctx)
		for _, series := range matrix {
			b := labels.NewBuilder(series.Metric)
			b.Set(model.MetricNameLabel, rr.Name())
			rr.Labels().Range(func(l labels.Label) { b.Set(l.Name, l.Value) })
			ls := b.Labels()
			var ref storage.SeriesRef
			for _, pt := range series.Floats {
				if ref, err = app.Append(ref, ls, 0, pt.T, pt.F, nil, nil, storage.AOptions{}); err != nil {
					_ = app.Rollback()
					q.Close()
					return fmt.Errorf("backfill %s: %w", rr.Name(), err)
				}
			}
		}
		q.Close()
		if err := app.Commit(); err != nil {
			return fmt.Errorf("backfill %s: %w", rr.Name(), err)
		}
	}
	return nil
}

func lastError(g *rules.Group, ts time.Duration) error {
	for _, r := range g.Rules() {
		if err := r.LastError(); err != nil {
			return fmt.Errorf("group %s, rule %s at %s: %w", g.Name(), r.Name(), short(ts), err)
		}
	}
	return nil
}

// writeCounters appends every synthetic sample of the story up front:
// a query at time t never reads samples after t, so the rules see the
// story unfold exactly as they would live.
func writeCounters(ctx context.Context, db *tsdb.DB, fx promrules.Fixture, sc promrules.Scenario, scrape time.Duration) error {
	app := db.AppenderV2(ctx)
	for _, s := range fx.Series {
		b := labels.NewBuilder(labels.FromMap(s.Labels))
		b.Set(model.MetricNameLabel, s.Metric)
		ls := b.Labels()
		var ref storage.SeriesRef
		for k, v := range promrules.Cumulate(sc.Increments(s, scrape, sc.End)) {
			if math.IsNaN(v) {
				continue
			}
			var err error
			ref, err = app.Append(ref, ls, 0, int64(time.Duration(k)*scrape/time.Millisecond), v, nil, nil, storage.AOptions{})
			if err != nil {
				_ = app.Rollback()
				return fmt.Errorf("slotest storage: %s: %w", s, err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("slotest storage: %w", err)
	}
	return nil
}

// judge compares what fired with the scenario's expectations and fills in
// the result's verdict.
func judge(res *Result, m promrules.SLOMath, sc promrules.Scenario, obs map[string]*observation, iv time.Duration) {
	var problems []string
	var before []string
	for _, tm := range m.Tiers {
		if o := obs[tm.Name]; o != nil && o.firedBefore {
			before = append(before, tm.Name)
		}
	}
	if len(before) > 0 {
		problems = append(problems, strings.Join(before, ", ")+" fired before the incident")
	}

	first := func(sev string) (time.Duration, string) {
		best, tier := time.Duration(-1), ""
		for _, tm := range m.Tiers {
			o := obs[tm.Name]
			if o == nil || o.severity != sev || o.firstFire < 0 {
				continue
			}
			if best < 0 || o.firstFire < best {
				best, tier = o.firstFire, tm.Name
			}
		}
		return best, tier
	}
	var observed []string
	var expected []string
	if sc.Expect != "" {
		res.Within = sc.Within
		expected = append(expected, fmt.Sprintf("%s ≤ %s", sc.Expect, short(sc.Within)))
		after, tier := first(sc.Expect)
		res.After = after
		if after < 0 {
			observed = append(observed, "no "+sc.Expect)
			problems = append(problems, "no "+sc.Expect+" fired")
		} else {
			observed = append(observed, fmt.Sprintf("%s after %s (%s)", sc.Expect, short(after), tier))
			if after > sc.Within {
				problems = append(problems, sc.Expect+" too late")
			}
		}
	}
	if sc.NeverPage {
		expected = append(expected, "no page")
		if after, tier := first("page"); after >= 0 {
			observed = append(observed, fmt.Sprintf("page after %s (%s)", short(after), tier))
			problems = append(problems, "paged")
		} else if sc.Expect != "page" {
			observed = append(observed, "no page")
		}
	}
	if sc.Recovery > 0 {
		var fired []string
		for _, tm := range m.Tiers {
			o := obs[tm.Name]
			if o == nil || o.lastFire < 0 {
				continue
			}
			// It stopped at the first evaluation after its last firing one.
			resolved := o.lastFire + iv - sc.Recovery
			bound := sc.ResolveWithin[tm.Name]
			fired = append(fired, fmt.Sprintf("%s resolved %s after recovery", tm.Name, short(max(resolved, 0))))
			if o.lastFire+iv > sc.End {
				problems = append(problems, tm.Name+" still firing at the end")
			} else if resolved > bound {
				problems = append(problems, fmt.Sprintf("%s resolved after %s > %s", tm.Name, short(resolved), short(bound)))
			}
		}
		expected = append(expected, "each tier resolves ≤ its short window + "+short(2*iv)+" after recovery")
		if len(fired) > 0 {
			observed = append(observed, strings.Join(fired, "; "))
		}
	}
	if sc.Name == promrules.ScenarioLowTraffic {
		var notified []string
		for _, tm := range m.Tiers {
			if o := obs[tm.Name]; o != nil && o.firstFire >= 0 && o.severity != "page" {
				notified = append(notified, tm.Name)
			}
		}
		if len(notified) > 0 {
			observed = append(observed, "notified ("+strings.Join(notified, ", ")+")")
		}
	}
	res.Expected = strings.Join(expected, "; ")
	res.Observed = strings.Join(observed, "; ")
	if len(problems) > 0 {
		res.Observed += " — " + strings.Join(problems, "; ")
	}
	res.Pass = len(problems) == 0
}

func modelDuration(d time.Duration) string { return model.Duration(d).String() }
