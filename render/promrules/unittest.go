package promrules

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"

	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/encode"
)

// The promtool unit-test format (promtool test rules).
type testFile struct {
	RuleFiles          []string    `yaml:"rule_files"`
	EvaluationInterval string      `yaml:"evaluation_interval"`
	Tests              []testGroup `yaml:"tests"`
}

type testGroup struct {
	Name           string        `yaml:"name"`
	Interval       string        `yaml:"interval"`
	InputSeries    []inputSeries `yaml:"input_series"`
	AlertRuleTests []alertTest   `yaml:"alert_rule_test"`
}

type inputSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

type alertTest struct {
	EvalTime  string     `yaml:"eval_time"`
	Alertname string     `yaml:"alertname"`
	ExpAlerts []expAlert `yaml:"exp_alerts"`
}

type expAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

// testScrape is the sample spacing of the synthetic counters.
const testScrape = time.Minute

// testPreload is the healthy history of the promtool scenarios.
const testPreload = 6 * time.Hour

// unitTests renders promtool tests that replay the canonical scenarios
// against the target's rule file. Each assertion is made at an instant
// where theory's verdict for every tier holds for two evaluation intervals
// before and one after, so it cannot depend on extrapolation details that
// differ between Prometheus 2 and 3.
func unitTests(t *plan.Target, groups map[string]ruleGroup) ([]byte, error) {
	tf := testFile{
		RuleFiles:          []string{"../../rules/" + t.Team.Name + "/" + t.Workload.Name + ".yaml"},
		EvaluationInterval: model.Duration(EvalInterval).String(),
	}
	for _, slo := range t.Workload.SLOs {
		g, ok := groups[slo.Name]
		if !ok {
			continue
		}
		m, err := Explain(slo, t.Env.Paging)
		if err != nil {
			return nil, err
		}
		fx, err := NewFixture(t, slo, 1)
		if err != nil {
			return nil, fmt.Errorf("slo %s fixture: %w", slo.Name, err)
		}
		byTier := map[string]rule{}
		for _, r := range g.Rules {
			if r.Alert != "" {
				byTier[r.Labels[LabelBurnTier]] = r
			}
		}
		alert := SLOAlertName(slo)
		// promtool evaluates every group at every step, so the history is
		// kept to the longest window that pages (6h); the expected alerts
		// come from theory over the same history, which accounts for the
		// partly filled 1d and 3d windows. validate/slotest replays the
		// same stories after a full 3d.
		for _, sc := range Scenarios(m, fx, ScenarioOptions{Scrape: testScrape, Preload: testPreload}) {
			if sc.Skip != "" {
				continue
			}
			tg, err := scenarioTest(m, fx, sc, alert, byTier)
			if err != nil {
				return nil, fmt.Errorf("slo %s scenario %s: %w", slo.Name, sc.Name, err)
			}
			tg.Name = slo.Name + " " + sc.Name + ": " + sc.Summary
			tf.Tests = append(tf.Tests, tg)
		}
	}
	if len(tf.Tests) == 0 {
		return nil, nil
	}
	return encode.YAML(tf)
}

func scenarioTest(m SLOMath, fx Fixture, sc Scenario, alert string, byTier map[string]rule) (testGroup, error) {
	iv := m.Interval
	var times []time.Duration
	times = append(times, sc.Start-iv) // healthy just before the incident
	// stable finds the first evaluation at or after from where theory's
	// verdict is settled, and, when want is set, that tier fires.
	stable := func(from time.Duration, want string) (time.Duration, error) {
		at := (from + iv - 1) / iv * iv
		for limit := at + 7*24*time.Hour; at <= limit; at += iv {
			if !sc.StableAt(m, at, 2*iv, iv) {
				continue
			}
			if want == "" || firingSeverity(m, sc.FiringAt(m, at), want) {
				return at, nil
			}
		}
		return 0, fmt.Errorf("no settled instant after %s", durationText(from))
	}
	switch {
	case sc.Name == ScenarioLowTraffic:
		for _, d := range []time.Duration{iv, sc.End - sc.Start - iv} {
			at, err := stable(sc.Start+d, "")
			if err != nil {
				return testGroup{}, err
			}
			times = append(times, at)
		}
	case sc.Recovery > 0:
		// Detection is the outage scenario's business; here only the
		// end of the story is asserted.
		var first string
		for _, tm := range m.Tiers {
			if tm.Severity == sc.Expect {
				first = tm.Name
				break
			}
		}
		at, err := stable(sc.Recovery+sc.ResolveWithin[first], "")
		if err != nil {
			return testGroup{}, err
		}
		times = append(times, at)
	case sc.Expect != "":
		at, err := stable(sc.Start+sc.Within, sc.Expect)
		if err != nil {
			return testGroup{}, err
		}
		times = append(times, at)
	default:
		at, err := stable(sc.End-iv, "")
		if err != nil {
			return testGroup{}, err
		}
		times = append(times, at)
	}

	end := times[len(times)-1]
	tg := testGroup{Interval: model.Duration(testScrape).String()}
	for _, s := range fx.Series {
		tg.InputSeries = append(tg.InputSeries, inputSeries{Series: s.String(), Values: SeriesValues(sc.Increments(s, testScrape, end))})
	}
	for _, at := range times {
		at := alertTest{EvalTime: model.Duration(at).String(), Alertname: alert, ExpAlerts: expected(m, sc.FiringAt(m, at), byTier)}
		tg.AlertRuleTests = append(tg.AlertRuleTests, at)
	}
	return tg, nil
}

func firingSeverity(m SLOMath, firing []bool, sev string) bool {
	for i, f := range firing {
		if f && m.Tiers[i].Severity == sev {
			return true
		}
	}
	return false
}

func expected(m SLOMath, firing []bool, byTier map[string]rule) []expAlert {
	out := []expAlert{}
	for i, f := range firing {
		if !f {
			continue
		}
		r := byTier[m.Tiers[i].Name]
		out = append(out, expAlert{ExpLabels: r.Labels, ExpAnnotations: r.Annotations})
	}
	return out
}
