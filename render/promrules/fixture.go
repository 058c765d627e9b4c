package promrules

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aiobs/aiobs/compile/plan"
)

// Fixture is synthetic input for one SLO of one target: the counter series
// a backend would expose, labelled so that the rendered selectors pick
// them, and how each grows with good and bad requests.
type Fixture struct {
	Series []FixtureSeries
	// Uninitialisable says whether some series counts only bad requests,
	// so that it can be missing until the first error, as counters born
	// at their first increment are.
	Uninitialisable bool
}

// FixtureSeries is one counter series: it grows by Good per good request
// and by Bad per bad one.
type FixtureSeries struct {
	Metric string
	Labels map[string]string // without __name__, sorted when written
	Good   float64
	Bad    float64
}

// BadOnly says whether the series counts nothing but bad requests.
func (s FixtureSeries) BadOnly() bool { return s.Good == 0 && s.Bad != 0 }

// String writes the series in PromQL series notation, as promtool's
// input_series and promqltest's load read it.
func (s FixtureSeries) String() string {
	var ms []plan.Matcher
	for _, k := range sortedKeys(s.Labels) {
		ms = append(ms, plan.Matcher{Name: k, Op: "=", Value: s.Labels[k]})
	}
	return s.Metric + plan.FormatMatchers(ms)
}

// NewFixture builds the series for an SLO. engines > 1 splits the traffic
// over that many values of the catalogue's first SumBy label, so the
// rules must sum them; for histograms the engines also spell le
// differently (1 and 1.0), so the le matcher must accept both.
func NewFixture(t *plan.Target, slo *plan.SLO, engines int) (Fixture, error) {
	if engines < 1 {
		engines = 1
	}
	be := t.Backend
	if be == nil {
		return Fixture{}, fmt.Errorf("workload %s has no backend catalogue", t.Workload.ID())
	}
	var out []FixtureSeries
	split := func(s plan.Series, fs FixtureSeries) {
		if len(s.SumBy) == 0 || engines == 1 {
			out = append(out, fs)
			return
		}
		for i := range engines {
			c := fs
			c.Labels = cloneLabels(fs.Labels)
			c.Labels[s.SumBy[0]] = strconv.Itoa(i)
			c.Good /= float64(engines)
			c.Bad /= float64(engines)
			out = append(out, c)
		}
	}
	switch slo.Kind {
	case "availability":
		errS, ok := be.Stages["errors"]
		if !ok {
			return Fixture{}, fmt.Errorf("backend %s has no errors series", be.Name)
		}
		errM := t.Matchers(errS)
		bad, err := satisfy(errM, nil)
		if err != nil {
			return Fixture{}, fmt.Errorf("errors series: %w", err)
		}
		totalS, hasTotal := be.Stages["requests"]
		if !hasTotal {
			totalS, ok = be.Stages["successes"]
			if !ok {
				return Fixture{}, fmt.Errorf("backend %s has neither requests nor successes", be.Name)
			}
		}
		totalM := t.Matchers(totalS)
		// The good series must never be selected as an error.
		good, err := satisfy(totalM, &avoid{name: errS.Name, ms: errM, metric: totalS.Name})
		if err != nil {
			return Fixture{}, fmt.Errorf("requests series: %w", err)
		}
		badInTotal := hasTotal && errS.Name == totalS.Name && matchesAll(totalM, bad)
		switch {
		case badInTotal:
			// vLLM style: one counter, errors are a label value of it.
			split(totalS, FixtureSeries{Metric: totalS.Name, Labels: good, Good: 1})
			split(errS, FixtureSeries{Metric: errS.Name, Labels: bad, Bad: 1})
		case hasTotal:
			// A total counter and a failure counter.
			split(totalS, FixtureSeries{Metric: totalS.Name, Labels: good, Good: 1, Bad: 1})
			split(errS, FixtureSeries{Metric: errS.Name, Labels: bad, Bad: 1})
		default:
			// Successes and failures apart (Triton).
			split(totalS, FixtureSeries{Metric: totalS.Name, Labels: good, Good: 1})
			split(errS, FixtureSeries{Metric: errS.Name, Labels: bad, Bad: 1})
		}
		return Fixture{Series: out, Uninitialisable: true}, nil
	case "latency":
		s, ok := be.Stages[slo.Stage]
		if !ok || s.Type != "histogram" {
			return Fixture{}, fmt.Errorf("backend %s has no %s histogram", be.Name, slo.Stage)
		}
		bound, err := bucketBound(s, slo.Threshold)
		if err != nil {
			return Fixture{}, err
		}
		base, err := satisfy(t.Matchers(s), nil)
		if err != nil {
			return Fixture{}, fmt.Errorf("%s series: %w", slo.Stage, err)
		}
		// Good requests land exactly in the threshold's bucket, bad ones
		// beyond the next bucket, so the neighbouring bounds prove the le
		// matcher picks exactly one.
		var lower, upper []float64
		for _, b := range s.Buckets {
			f, err := strconv.ParseFloat(b, 64)
			if err != nil {
				continue
			}
			switch {
			case f < bound:
				lower = append(lower, f)
			case f > bound:
				upper = append(upper, f)
			}
		}
		type bucket struct {
			le        float64
			good, bad float64
		}
		buckets := []bucket{{bound, 1, 0}}
		if len(lower) > 0 {
			buckets = append(buckets, bucket{lower[len(lower)-1], 0, 0})
		}
		if len(upper) > 0 {
			buckets = append(buckets, bucket{upper[0], 1, 0})
		}
		slices.SortFunc(buckets, func(a, b bucket) int { return cmpFloat(a.le, b.le) })
		spell := []func(float64) string{goFloat, openMetricsFloat}
		for i := range engines {
			eng := cloneLabels(base)
			if len(s.SumBy) > 0 && engines > 1 {
				eng[s.SumBy[0]] = strconv.Itoa(i)
			}
			n := float64(engines)
			if len(s.SumBy) == 0 {
				n = 1
			}
			for _, b := range buckets {
				ls := cloneLabels(eng)
				ls["le"] = spell[i%len(spell)](b.le)
				out = append(out, FixtureSeries{Metric: s.Name + "_bucket", Labels: ls, Good: b.good / n, Bad: b.bad / n})
			}
			inf := cloneLabels(eng)
			inf["le"] = "+Inf"
			out = append(out, FixtureSeries{Metric: s.Name + "_bucket", Labels: inf, Good: 1 / n, Bad: 1 / n})
			out = append(out, FixtureSeries{Metric: s.Name + "_count", Labels: cloneLabels(eng), Good: 1 / n, Bad: 1 / n})
			if len(s.SumBy) == 0 {
				break
			}
		}
		return Fixture{Series: out}, nil
	}
	return Fixture{}, fmt.Errorf("slo %s has unknown kind %q", slo.Name, slo.Kind)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// goFloat spells a bound as Go clients and Prometheus 2 do: 1, 0.5, 1e+06.
func goFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// openMetricsFloat spells it as Prometheus 3 normalises it: 1.0, 0.5.
func openMetricsFloat(f float64) string {
	s := goFloat(f)
	if !strings.ContainsAny(s, ".eIN") {
		s += ".0"
	}
	return s
}

// avoid names a selector a synthesised label set must not match.
type avoid struct {
	name, metric string
	ms           []plan.Matcher
}

// satisfy finds label values that meet every matcher, trying a few
// plausible values for negative and regex matchers; when a is set and the
// result would also match a's selector (same metric), it tries other
// values for a's labels until it does not.
func satisfy(ms []plan.Matcher, a *avoid) (map[string]string, error) {
	byName := map[string][]plan.Matcher{}
	var names []string
	for _, m := range ms {
		if _, ok := byName[m.Name]; !ok {
			names = append(names, m.Name)
		}
		byName[m.Name] = append(byName[m.Name], m)
	}
	var constrained []plan.Matcher
	if a != nil && a.name == a.metric {
		constrained = a.ms
		for _, m := range a.ms {
			if _, ok := byName[m.Name]; !ok {
				names = append(names, m.Name)
			}
		}
	}
	slices.Sort(names)
	out := map[string]string{}
	// Choose each label independently; for labels the avoided selector
	// constrains, prefer a value that breaks one of its matchers.
	broken := a == nil || a.name != a.metric
	for _, name := range names {
		cands := candidates(byName[name], constrainedOn(constrained, name))
		var chosen *string
		for _, c := range cands {
			if !matchesLabel(byName[name], c) {
				continue
			}
			if !broken && !matchesLabel(constrainedOn(constrained, name), c) {
				v := c
				chosen = &v
				broken = true
				break
			}
			if chosen == nil {
				v := c
				chosen = &v
			}
		}
		if chosen == nil {
			return nil, fmt.Errorf("no value of %s meets %s", name, plan.FormatMatchers(byName[name]))
		}
		if *chosen != "" {
			out[name] = *chosen
		}
	}
	if !broken {
		return nil, fmt.Errorf("cannot label a series that %s selects but %s does not", plan.FormatMatchers(ms), plan.FormatMatchers(constrained))
	}
	return out, nil
}

func constrainedOn(ms []plan.Matcher, name string) []plan.Matcher {
	var out []plan.Matcher
	for _, m := range ms {
		if m.Name == name {
			out = append(out, m)
		}
	}
	return out
}

// candidates lists values to try for a label: the equality values, the
// literal alternatives of regexes, the empty value and a few common ones.
func candidates(groups ...[]plan.Matcher) []string {
	var out []string
	for _, ms := range groups {
		for _, m := range ms {
			switch m.Op {
			case "=":
				out = append(out, m.Value)
			case "=~", "!~":
				for alt := range strings.SplitSeq(m.Value, "|") {
					if regexp.QuoteMeta(alt) == alt {
						out = append(out, alt)
					}
				}
			}
		}
	}
	out = append(out, "", "ok", "stop", "error", "200", "500", "x")
	return out
}

func matchesLabel(ms []plan.Matcher, v string) bool {
	for _, m := range ms {
		if !matchOne(m, v) {
			return false
		}
	}
	return true
}

func matchOne(m plan.Matcher, v string) bool {
	switch m.Op {
	case "=":
		return v == m.Value
	case "!=":
		return v != m.Value
	case "=~", "!~":
		re, err := regexp.Compile("^(?s:" + m.Value + ")$")
		if err != nil {
			return false
		}
		return re.MatchString(v) == (m.Op == "=~")
	}
	return false
}

// matchesAll says whether a label set (missing labels are empty) meets
// every matcher.
func matchesAll(ms []plan.Matcher, ls map[string]string) bool {
	for _, m := range ms {
		if !matchOne(m, ls[m.Name]) {
			return false
		}
	}
	return true
}
