package promrules

import (
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/aiobs/aiobs/compile/plan"
)

// EvalInterval is how often the SLO rule groups are evaluated. It equals the
// width of the recorded counts on purpose: evaluated every 5m, consecutive
// increase(…[5m]) samples tile time without overlap, so a sum_over_time of
// them counts every event exactly once and is an event count, not a
// multiple of one. It also keeps a 30d window at 8,640 samples per SLO.
// The price is up to 5m of extra detection delay, no more than the fastest
// tier's short window already costs.
const EvalInterval = 5 * time.Minute

// SLOMath is the arithmetic behind one SLO's burn-rate alerts, as
// `aiobs explain` prints it and as the rules encode it.
type SLOMath struct {
	// Objective is the target in percent as decided, e.g. "99.5".
	Objective string
	// Budget is the allowed error ratio, 1 − objective/100, exact, e.g.
	// "0.005".
	Budget string
	// Period is the budget's window.
	Period     time.Duration
	PeriodText string
	// MinEvents is the fewest requests a tier's long window must hold for
	// the tier to fire.
	MinEvents int
	// Interval is the rule evaluation interval; firing can lag the
	// theoretical time by up to one interval.
	Interval time.Duration
	Tiers    []TierMath

	budget *big.Rat
}

// TierMath is one burn-rate tier of one SLO in numbers.
type TierMath struct {
	Name string // page-fast, ...
	// Severity is the label the rendered alert carries: the tier's own
	// severity, or notify in an environment that does not page.
	Severity string
	// Factor is the burn rate at which the tier fires, as decimal text.
	Factor string
	// Long and Short are the two windows that must both exceed Threshold.
	Long, Short         time.Duration
	LongText, ShortText string
	// Threshold is the error ratio both windows must exceed:
	// factor × budget, as decimal text.
	Threshold string
	// BudgetPercent is the share of the period's budget spent by the time
	// the tier fires, whatever the burn rate: a burn b fires after
	// factor/b × long and spends b × that / period = factor × long / period.
	BudgetPercent string
	// Exhaustion is how long the whole budget lasts at a burn of exactly
	// Factor: period / factor.
	Exhaustion time.Duration

	threshold *big.Rat
	// thresholdFloat is threshold rounded once: simulations compare
	// against it every simulated minute.
	thresholdFloat float64
}

// Explain computes the arithmetic of an SLO's tiers. paging is the
// environment's paging policy; without paging every tier notifies.
func Explain(slo *plan.SLO, paging bool) (SLOMath, error) {
	budget, err := Budget(slo.Objective)
	if err != nil {
		return SLOMath{}, err
	}
	period, err := parseDuration(slo.Period)
	if err != nil {
		return SLOMath{}, fmt.Errorf("slo %s period: %w", slo.Name, err)
	}
	m := SLOMath{
		Objective:  slo.Objective,
		Budget:     formatRat(budget),
		Period:     period,
		PeriodText: slo.Period,
		MinEvents:  slo.MinEvents,
		Interval:   EvalInterval,
		budget:     budget,
	}
	for _, t := range slo.Tiers {
		long, err := parseDuration(t.Long)
		if err != nil {
			return SLOMath{}, fmt.Errorf("tier %s long window: %w", t.Name, err)
		}
		short, err := parseDuration(t.Short)
		if err != nil {
			return SLOMath{}, fmt.Errorf("tier %s short window: %w", t.Name, err)
		}
		pct, ok := new(big.Rat).SetString(t.BudgetPercent)
		if !ok {
			return SLOMath{}, fmt.Errorf("tier %s budget percent %q is not a number", t.Name, t.BudgetPercent)
		}
		// factor = budget% / 100 × period / long, recomputed exactly here
		// because the plan's text is rounded for non-terminating decimals.
		factor := new(big.Rat).Quo(pct, big.NewRat(100, 1))
		factor.Mul(factor, new(big.Rat).SetFrac64(int64(period), int64(long)))
		threshold := new(big.Rat).Mul(factor, budget)
		if threshold.Cmp(big.NewRat(1, 1)) >= 0 {
			return SLOMath{}, fmt.Errorf("tier %s of slo %s can never fire: threshold %s ≥ 1", t.Name, slo.Name, formatRat(threshold))
		}
		sev := t.Severity
		if !paging {
			sev = "notify"
		}
		factorText := t.Factor
		if factorText == "" {
			factorText = formatRat(factor)
		}
		exhaustion := new(big.Rat).Quo(new(big.Rat).SetInt64(int64(period)), factor)
		m.Tiers = append(m.Tiers, TierMath{
			Name:           t.Name,
			Severity:       sev,
			Factor:         factorText,
			Long:           long,
			Short:          short,
			LongText:       t.Long,
			ShortText:      t.Short,
			Threshold:      formatRat(threshold),
			BudgetPercent:  t.BudgetPercent,
			Exhaustion:     ratDuration(exhaustion).Round(time.Minute),
			threshold:      threshold,
			thresholdFloat: ratFloat(threshold),
		})
	}
	return m, nil
}

// TimeToFire is how long an error ratio that steps from zero to errorRatio
// and stays there takes to fire the tier, in theory: the long window must
// hold threshold/errorRatio of its width in errors (the short window, being
// shorter, is faster). ok is false when the ratio never exceeds the
// threshold. The rules may fire up to one evaluation interval later.
func (t TierMath) TimeToFire(errorRatio float64) (d time.Duration, ok bool) {
	thr := t.ThresholdFloat()
	if !(errorRatio > thr) {
		return 0, false
	}
	return time.Duration(thr / errorRatio * float64(t.Long)), true
}

// BudgetSpentPercent is the share of the period's error budget, in percent,
// that a burn from errorRatio spends before the tier fires; by construction
// it is the tier's BudgetPercent for every ratio that fires at all.
func (m SLOMath) BudgetSpentPercent(t TierMath, errorRatio float64) (float64, bool) {
	d, ok := t.TimeToFire(errorRatio)
	if !ok {
		return 0, false
	}
	b, _ := m.budget.Float64()
	return 100 * errorRatio / b * float64(d) / float64(m.Period), true
}

// ThresholdFloat is the error-ratio threshold as a float, for simulations.
func (t TierMath) ThresholdFloat() float64 { return t.thresholdFloat }

func ratFloat(r *big.Rat) float64 {
	f, _ := r.Float64()
	return f
}

// BudgetFloat is the error budget as a float, for simulations.
func (m SLOMath) BudgetFloat() float64 {
	f, _ := m.budget.Float64()
	return f
}

// Segment is a stretch of traffic from From onwards (until the next
// segment): a steady request rate with a steady share of errors.
type Segment struct {
	From              time.Duration
	RequestsPerMinute float64
	ErrorRatio        float64
}

// FiringAt says, for each tier, whether it fires at time at under the given
// traffic in continuous-time theory: both windows' error ratios above the
// threshold and the long window holding at least MinEvents requests. The
// segments must be sorted by From; traffic before the first is zero.
func (m SLOMath) FiringAt(profile []Segment, at time.Duration) []bool {
	out := make([]bool, len(m.Tiers))
	for i, t := range m.Tiers {
		thr := t.ThresholdFloat()
		lr, le := window(profile, at-t.Long, at)
		sr, se := window(profile, at-t.Short, at)
		out[i] = lr > 0 && sr > 0 && le/lr > thr && se/sr > thr && lr >= float64(m.MinEvents)
	}
	return out
}

// window integrates requests and errors over (from, to].
func window(profile []Segment, from, to time.Duration) (requests, errors float64) {
	for i, s := range profile {
		end := time.Duration(math.MaxInt64)
		if i+1 < len(profile) {
			end = profile[i+1].From
		}
		lo, hi := max(from, s.From), min(to, end)
		if hi <= lo {
			continue
		}
		minutes := (hi - lo).Minutes()
		requests += minutes * s.RequestsPerMinute
		errors += minutes * s.RequestsPerMinute * s.ErrorRatio
	}
	return requests, errors
}

// Budget is 1 − objective/100, exactly.
func Budget(objective string) (*big.Rat, error) {
	o, ok := new(big.Rat).SetString(objective)
	if !ok {
		return nil, fmt.Errorf("objective %q is not a number", objective)
	}
	if o.Sign() <= 0 || o.Cmp(big.NewRat(100, 1)) >= 0 {
		return nil, fmt.Errorf("objective %s%% is not between 0 and 100", objective)
	}
	return new(big.Rat).Sub(big.NewRat(1, 1), o.Quo(o, big.NewRat(100, 1))), nil
}

// maxPlaces bounds the decimals formatRat prints for non-terminating
// values: 12 places keep 7 significant digits even for a 99.999% objective's
// smallest threshold, and never print float noise.
const maxPlaces = 12

// formatRat prints r as a plain decimal: exactly when it terminates within
// maxPlaces decimals (0.005, 14.4), else rounded to maxPlaces; trailing zeros
// dropped, never an exponent, so PromQL and people read it alike.
func formatRat(r *big.Rat) string {
	s := r.FloatString(maxPlaces)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// percentText prints a ratio as a percentage, e.g. 0.072 → "7.2%".
func percentText(r *big.Rat) string {
	return formatRat(new(big.Rat).Mul(r, big.NewRat(100, 1))) + "%"
}

func parseDuration(s string) (time.Duration, error) {
	d, err := model.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("duration %q is not positive", s)
	}
	return time.Duration(d), nil
}

func ratDuration(r *big.Rat) time.Duration {
	f, _ := r.Float64()
	return time.Duration(math.Round(f))
}

// durationText prints a duration the way Prometheus writes it (2d2h, 30m),
// rounded to the minute, or to the second under a minute.
func durationText(d time.Duration) string {
	if d >= time.Minute {
		d = d.Round(time.Minute)
	} else {
		d = d.Round(time.Second)
	}
	if d <= 0 {
		return "0s"
	}
	return model.Duration(d).String()
}
