package promrules

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Scenario names, stable: they label promtool tests and simulator results.
const (
	ScenarioOutage        = "outage"
	ScenarioFastBurn      = "fast-burn"
	ScenarioSlowBurn      = "slow-burn"
	ScenarioRecovery      = "recovery"
	ScenarioLowTraffic    = "low-traffic"
	ScenarioUninitialised = "uninitialised"
)

// Preload is the healthy history every scenario starts with: the longest
// standard window (3d), so slow tiers judge full windows and never fire on
// partial data.
const Preload = 72 * time.Hour

// incidentOffset puts the start of every incident between two
// evaluations.
const incidentOffset = 2 * time.Minute

// fastBurnMargin scales the fastest page tier's factor for the fast-burn
// scenario: at exactly the factor the long window only reaches the
// threshold, and a > comparison never fires.
const fastBurnMargin = 1.2

// Scenario is a traffic story told to an SLO's rules, with what theory says
// must happen.
type Scenario struct {
	Name string
	// Summary says in a few words what happens and what must follow.
	Summary string
	Profile []Segment
	// Failure, when positive, adds one failed request at that time.
	Failure time.Duration
	// Uninitialised leaves the bad-only series missing until the first
	// error.
	Uninitialised bool
	// Start is when the incident begins; Recovery when it ends (0: never);
	// End when the story stops.
	Start, Recovery, End time.Duration
	// Expect is the severity that must fire ("" when nothing may page);
	// Within the bound on its time to fire after Start.
	Expect string
	Within time.Duration
	// NeverPage forbids any page-severity alert during the story.
	NeverPage bool
	// ResolveWithin bounds, for every tier, the time from Recovery until
	// it stops firing: its short window plus two evaluation intervals.
	ResolveWithin map[string]time.Duration
	// Skip, when set, says why the scenario does not apply.
	Skip string
}

// ScenarioOptions tune the traffic.
type ScenarioOptions struct {
	// RequestsPerMinute is the healthy traffic; 0 means 100.
	RequestsPerMinute float64
	// Scrape is the counters' sample spacing; 0 means 1m.
	Scrape time.Duration
	// Preload is the healthy history before each incident; 0 means
	// Preload (3d).
	Preload time.Duration
}

func (o ScenarioOptions) defaults() ScenarioOptions {
	if o.RequestsPerMinute <= 0 {
		o.RequestsPerMinute = 100
	}
	if o.Scrape <= 0 {
		o.Scrape = time.Minute
	}
	if o.Preload <= 0 {
		o.Preload = Preload
	}
	return o
}

// Scenarios returns the canonical stories for an SLO: a total outage, a
// burn just above the fastest page factor, a 2× burn, recovery from an
// outage, one failure at very low traffic, and an error counter born at the
// first error.
func Scenarios(m SLOMath, fx Fixture, opts ScenarioOptions) []Scenario {
	opts = opts.defaults()
	rpm := opts.RequestsPerMinute
	b := m.BudgetFloat()
	baseline := b / 10 // healthy: a tenth of the budget
	// Incidents start off the evaluation grid, as real ones do, so the
	// observed times include the wait for the next evaluation.
	start := opts.Preload + incidentOffset
	iv := m.Interval

	page := -1 // the tier an outage fires first, among those that page
	for i, t := range m.Tiers {
		if t.Severity == "page" && (page < 0 || fire(t, 1) < fire(m.Tiers[page], 1)) {
			page = i
		}
	}
	sev := "page"
	if page < 0 {
		// An environment that does not page: the fastest tier notifies.
		sev = "notify"
		for i, t := range m.Tiers {
			if page < 0 || fire(t, 1) < fire(m.Tiers[page], 1) {
				page = i
			}
		}
	}
	var out []Scenario
	if page < 0 {
		return out
	}
	first := m.Tiers[page]
	outageBound := fire(first, 1) + iv

	out = append(out, Scenario{
		Name:    ScenarioOutage,
		Summary: fmt.Sprintf("every request fails: %s fires within %s", sev, secondsText(outageBound)),
		Profile: []Segment{{0, rpm, baseline}, {start, rpm, 1}},
		Start:   start, End: start + outageBound + 2*iv,
		Expect: sev, Within: outageBound,
	})

	fastFactor := factorFloat(first) * fastBurnMargin
	fastRatio := math.Min(1, fastFactor*b)
	fastBound := fire(first, fastRatio) + iv
	out = append(out, Scenario{
		Name: ScenarioFastBurn,
		Summary: fmt.Sprintf("burn %s× (%s× the %s factor): %s fires within %s",
			trimFloat(fastFactor), trimFloat(fastBurnMargin), first.Name, sev, secondsText(fastBound)),
		Profile: []Segment{{0, rpm, baseline}, {start, rpm, fastRatio}},
		Start:   start, End: start + fastBound + 2*iv,
		Expect: sev, Within: fastBound,
	})

	// A 2× burn fires the tiers whose factor is below 2 and no other. With
	// less than 3d of history the slow windows are partly empty, so the
	// time comes from theory over the actual story, not the formula.
	slowRatio := 2 * b
	slow := Scenario{Name: ScenarioSlowBurn, Profile: []Segment{{0, rpm, baseline}, {start, rpm, slowRatio}}, Start: start, NeverPage: true}
	horizon := start + 7*24*time.Hour
	slow.End = horizon
	if at, tier, ok := slow.firstFiring(m, start, horizon); ok {
		slow.Expect = m.Tiers[tier].Severity
		slow.Within = at - start + iv
		slow.End = start + slow.Within + time.Hour
	}
	for t := start; t <= slow.End; t += time.Minute {
		if firingSeverity(m, slow.FiringAt(m, t), "page") {
			slow.NeverPage = false
			break
		}
	}
	switch {
	case slow.Expect == "":
		slow.Summary = "burn 2×: nothing fires"
	case slow.NeverPage:
		slow.Summary = fmt.Sprintf("burn 2×: %s fires within %s, never page", slow.Expect, secondsText(slow.Within))
	default:
		slow.Summary = fmt.Sprintf("burn 2×: %s fires within %s", slow.Expect, secondsText(slow.Within))
	}
	out = append(out, slow)

	recovery := start + (outageBound+iv+time.Minute-1)/time.Minute*time.Minute
	resolve := map[string]time.Duration{}
	longestShort := time.Duration(0)
	for _, t := range m.Tiers {
		resolve[t.Name] = t.Short + 2*iv
		longestShort = max(longestShort, t.Short)
	}
	out = append(out, Scenario{
		Name: ScenarioRecovery,
		Summary: fmt.Sprintf("outage for %s, then healthy: %s resolves within %s",
			secondsText(recovery-start), first.Name, secondsText(resolve[first.Name])),
		Profile: []Segment{{0, rpm, baseline}, {start, rpm, 1}, {recovery, rpm, baseline}},
		Start:   start, Recovery: recovery, End: recovery + longestShort + 3*iv,
		Expect: sev, Within: outageBound, ResolveWithin: resolve,
	})

	// Very low traffic: fewer than MinEvents requests in every page tier's
	// long window, then a single failure.
	low := Scenario{Name: ScenarioLowTraffic, Start: start, Failure: start, NeverPage: true}
	var longestPage time.Duration
	for _, t := range m.Tiers {
		if t.Severity == "page" {
			longestPage = max(longestPage, t.Long)
		}
	}
	switch {
	case m.MinEvents == 0:
		low.Skip = "minEvents is 0: the low-traffic guard is off"
	case longestPage == 0:
		low.Skip = "nothing pages in this environment"
	default:
		lowRPM := float64(m.MinEvents) / 2 / longestPage.Minutes()
		low.Profile = []Segment{{0, lowRPM, 0}}
		low.End = start + longestPage + 2*iv
		low.Summary = fmt.Sprintf("%s requests per %s, one fails: no page", trimFloat(float64(m.MinEvents)/2), secondsText(longestPage))
	}
	out = append(out, low)

	un := Scenario{
		Name:    ScenarioUninitialised,
		Profile: []Segment{{0, rpm, 0}, {start, rpm, 1}},
		Start:   start, End: start + outageBound + opts.Scrape + 2*iv,
		Uninitialised: true,
		Expect:        sev, Within: outageBound + opts.Scrape,
		Summary: fmt.Sprintf("error counter born at the first error, then an outage: %s fires within %s",
			sev, secondsText(outageBound+opts.Scrape)),
	}
	if !fx.Uninitialisable {
		un.Skip = "no counter of bad events only: a histogram's buckets are born together"
	}
	out = append(out, un)
	return out
}

// firstFiring scans theory minute by minute for the first tier to fire.
func (sc Scenario) firstFiring(m SLOMath, from, to time.Duration) (time.Duration, int, bool) {
	for t := from; t <= to; t += time.Minute {
		for i, f := range sc.FiringAt(m, t) {
			if f {
				return t, i, true
			}
		}
	}
	return 0, 0, false
}

// secondsText prints a bound to the second (9m19s), since a bound rounded
// to the minute could read stricter or looser than it is.
func secondsText(d time.Duration) string {
	d = d.Round(time.Second)
	if d <= 0 {
		return "0s"
	}
	return model.Duration(d).String()
}

func fire(t TierMath, ratio float64) time.Duration {
	d, ok := t.TimeToFire(ratio)
	if !ok {
		return time.Duration(math.MaxInt64 / 4)
	}
	return d
}

func factorFloat(t TierMath) float64 {
	f, _ := strconv.ParseFloat(t.Factor, 64)
	return f
}

func trimFloat(f float64) string {
	return strconv.FormatFloat(math.Round(f*1000)/1000, 'f', -1, 64)
}

// FiringAt says, for each tier, whether theory has it firing at time at
// (see SLOMath.FiringAt), counting the scenario's single failure.
func (sc Scenario) FiringAt(m SLOMath, at time.Duration) []bool {
	out := make([]bool, len(m.Tiers))
	for i, t := range m.Tiers {
		thr := t.ThresholdFloat()
		lr, le := window(sc.Profile, at-t.Long, at)
		sr, se := window(sc.Profile, at-t.Short, at)
		if sc.Failure > 0 {
			if at-t.Long < sc.Failure && sc.Failure <= at {
				lr, le = lr+1, le+1
			}
			if at-t.Short < sc.Failure && sc.Failure <= at {
				sr, se = sr+1, se+1
			}
		}
		out[i] = lr > 0 && sr > 0 && le/lr > thr && se/sr > thr && lr >= float64(m.MinEvents)
	}
	return out
}

// StableAt says whether theory's verdict for every tier stays the same from
// before to after, sampled each minute: an instant far enough from every
// flip that a discrete evaluation must agree with it.
func (sc Scenario) StableAt(m SLOMath, at, before, after time.Duration) bool {
	want := sc.FiringAt(m, at)
	for t := at - before; t <= at+after; t += time.Minute {
		if !slices.Equal(sc.FiringAt(m, t), want) {
			return false
		}
	}
	return true
}

// Increments returns how much a series grows in each scrape interval from
// 0 to end (the first entry, at time 0, is 0): the good and bad requests it
// counts. While an uninitialised bad-only series does not exist yet the
// entry is NaN.
func (sc Scenario) Increments(fs FixtureSeries, scrape, end time.Duration) []float64 {
	n := int(end / scrape)
	out := make([]float64, n+1)
	born := !(sc.Uninitialised && fs.BadOnly())
	for k := 0; k <= n; k++ {
		t := time.Duration(k) * scrape
		var inc float64
		if k > 0 {
			req, errs := window(sc.Profile, t-scrape, t)
			if sc.Failure > 0 && t-scrape < sc.Failure && sc.Failure <= t {
				req, errs = req+1, errs+1
			}
			inc = fs.Good*(req-errs) + fs.Bad*errs
			if errs > 0 {
				born = true
			}
		}
		if born {
			out[k] = inc
		} else {
			out[k] = math.NaN()
		}
	}
	return out
}

// Cumulate turns increments into counter values the way promtool's a+bxn
// expands them, by repeated float addition, so that a counter written as
// runs never steps back by a rounding error (which increase() would read as
// a reset). NaN stays missing.
func Cumulate(incs []float64) []float64 {
	out := make([]float64, len(incs))
	var v float64
	for i, inc := range incs {
		if math.IsNaN(inc) {
			out[i] = inc
			continue
		}
		v += inc
		out[i] = v
	}
	return out
}

// SeriesValues writes a counter given by its increments in promtool's
// expanding notation: runs of one increment as a+bxn, missing samples as
// _xn. Numbers are printed in Go's shortest exact form, so promtool's sums
// reproduce Cumulate's values bit for bit.
func SeriesValues(incs []float64) string {
	var parts []string
	var v float64
	for i := 0; i < len(incs); {
		if math.IsNaN(incs[i]) {
			j := i
			for j+1 < len(incs) && math.IsNaN(incs[j+1]) {
				j++
			}
			parts = append(parts, fmt.Sprintf("_x%d", j-i+1))
			i = j + 1
			continue
		}
		v += incs[i]
		if i+1 >= len(incs) || math.IsNaN(incs[i+1]) {
			parts = append(parts, exact(v))
			i++
			continue
		}
		step := incs[i+1]
		j := i + 1
		for j+1 < len(incs) && incs[j+1] == step {
			j++
		}
		parts = append(parts, exact(v)+signed(step)+"x"+strconv.Itoa(j-i))
		for k := i + 1; k <= j; k++ {
			v += step
		}
		i = j + 1
	}
	return strings.Join(parts, " ")
}

func signed(f float64) string {
	if f < 0 {
		return "-" + exact(-f)
	}
	return "+" + exact(f)
}

// exact prints the shortest decimal that parses back to f.
func exact(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
