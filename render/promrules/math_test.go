package promrules

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/compile/plan"
)

func standardTiers(factors ...string) []plan.SLOTier {
	base := []plan.BurnTier{
		{Name: "page-fast", Severity: "page", BudgetPercent: "2", Long: "1h", Short: "5m"},
		{Name: "page-slow", Severity: "page", BudgetPercent: "5", Long: "6h", Short: "30m"},
		{Name: "notify-fast", Severity: "notify", BudgetPercent: "10", Long: "1d", Short: "2h"},
		{Name: "notify-slow", Severity: "notify", BudgetPercent: "10", Long: "3d", Short: "6h"},
	}
	var out []plan.SLOTier
	for i, t := range base {
		out = append(out, plan.SLOTier{BurnTier: t, Factor: factors[i]})
	}
	return out
}

func TestExplainComputesExactThresholds(t *testing.T) {
	type tier struct {
		Name, Severity, Factor, Threshold, BudgetPercent string
		Exhaustion                                       time.Duration
	}
	tests := []struct {
		name      string
		objective string
		period    string
		factors   []string
		paging    bool
		budget    string
		want      []tier
	}{
		{
			name: "99.9 over 30 days has a budget of exactly 0.001", objective: "99.9", period: "30d",
			factors: []string{"14.4", "6", "3", "1"}, paging: true, budget: "0.001",
			want: []tier{
				{"page-fast", "page", "14.4", "0.0144", "2", 50 * time.Hour},
				{"page-slow", "page", "6", "0.006", "5", 5 * 24 * time.Hour},
				{"notify-fast", "notify", "3", "0.003", "10", 10 * 24 * time.Hour},
				{"notify-slow", "notify", "1", "0.001", "10", 30 * 24 * time.Hour},
			},
		},
		{
			name: "99.5 over 30 days thresholds print without float noise", objective: "99.5", period: "30d",
			factors: []string{"14.4", "6", "3", "1"}, paging: true, budget: "0.005",
			want: []tier{
				{"page-fast", "page", "14.4", "0.072", "2", 50 * time.Hour},
				{"page-slow", "page", "6", "0.03", "5", 5 * 24 * time.Hour},
				{"notify-fast", "notify", "3", "0.015", "10", 10 * 24 * time.Hour},
				{"notify-slow", "notify", "1", "0.005", "10", 30 * 24 * time.Hour},
			},
		},
		{
			name: "a 28 day period gives a repeating slow factor, rounded to 12 places", objective: "99", period: "28d",
			factors: []string{"13.44", "5.6", "2.8", "0.933333333"}, paging: true, budget: "0.01",
			want: []tier{
				{"page-fast", "page", "13.44", "0.1344", "2", 50 * time.Hour},
				{"page-slow", "page", "5.6", "0.056", "5", 5 * 24 * time.Hour},
				{"notify-fast", "notify", "2.8", "0.028", "10", 10 * 24 * time.Hour},
				{"notify-slow", "notify", "0.933333333", "0.009333333333", "10", 30 * 24 * time.Hour},
			},
		},
		{
			name: "an environment that does not page makes every tier notify", objective: "99.99", period: "30d",
			factors: []string{"14.4", "6", "3", "1"}, paging: false, budget: "0.0001",
			want: []tier{
				{"page-fast", "notify", "14.4", "0.00144", "2", 50 * time.Hour},
				{"page-slow", "notify", "6", "0.0006", "5", 5 * 24 * time.Hour},
				{"notify-fast", "notify", "3", "0.0003", "10", 10 * 24 * time.Hour},
				{"notify-slow", "notify", "1", "0.0001", "10", 30 * 24 * time.Hour},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Explain(&plan.SLO{Name: "availability", Objective: tt.objective, Period: tt.period, Tiers: standardTiers(tt.factors...)}, tt.paging)
			if err != nil {
				t.Fatal(err)
			}
			if m.Budget != tt.budget {
				t.Errorf("budget %s; want %s", m.Budget, tt.budget)
			}
			var got []tier
			for _, x := range m.Tiers {
				got = append(got, tier{x.Name, x.Severity, x.Factor, x.Threshold, x.BudgetPercent, x.Exhaustion})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("tiers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExplainRefusesATierThatCanNeverFire(t *testing.T) {
	_, err := Explain(&plan.SLO{Name: "availability", Objective: "90", Period: "30d", Tiers: standardTiers("14.4", "6", "3", "1")}, true)
	if err == nil {
		t.Fatal("no error for a 90% objective, whose 14.4× threshold is 1.44")
	}
}

func TestTimeToFireFollowsTheWorkbook(t *testing.T) {
	m, err := Explain(&plan.SLO{Name: "availability", Objective: "99.9", Period: "30d", Tiers: standardTiers("14.4", "6", "3", "1")}, true)
	if err != nil {
		t.Fatal(err)
	}
	fast, slow := m.Tiers[0], m.Tiers[3]
	tests := []struct {
		name  string
		tier  TierMath
		ratio float64
		want  time.Duration
		fires bool
	}{
		{"a total outage fires the 14.4× tier after 0.0144 of an hour", fast, 1, 51840 * time.Millisecond, true},
		{"5% errors fire the 14.4× tier after 17.28 minutes", fast, 0.05, 17*time.Minute + 16800*time.Millisecond, true},
		{"a burn exactly at the factor never exceeds the threshold", fast, 0.0144, 0, false},
		{"a 2× burn fires the 1× tier after half its 3d window", slow, 0.002, 36 * time.Hour, true},
		{"a 0.5× burn never fires the 1× tier", slow, 0.0005, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.tier.TimeToFire(tt.ratio)
			if ok != tt.fires {
				t.Fatalf("fires %t; want %t", ok, tt.fires)
			}
			if diff := got - tt.want; diff < -time.Millisecond || diff > time.Millisecond {
				t.Errorf("time to fire %s; want %s", got, tt.want)
			}
			if !ok {
				return
			}
			spent, _ := m.BudgetSpentPercent(tt.tier, tt.ratio)
			if want := map[string]float64{"page-fast": 2, "notify-slow": 10}[tt.tier.Name]; spent < want-1e-9 || spent > want+1e-9 {
				t.Errorf("budget spent %g%%; want %g%%, the tier's share whatever the burn", spent, want)
			}
		})
	}
}

func TestFiringAtNeedsBothWindowsAndEnoughEvents(t *testing.T) {
	slo := &plan.SLO{Name: "availability", Objective: "99.5", Period: "30d", MinEvents: 20, Tiers: standardTiers("14.4", "6", "3", "1")}
	m, err := Explain(slo, true)
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	tests := []struct {
		name      string
		profile   []Segment
		failure   time.Duration
		at        time.Duration
		minEvents int // −1 drops the minimum
		want      []bool
	}{
		{
			name:    "healthy traffic fires nothing",
			profile: []Segment{{0, 100, 0.0005}},
			at:      3 * day,
			want:    []bool{false, false, false, false},
		},
		{
			name:    "ten minutes of total outage fires only the fast page tier",
			profile: []Segment{{0, 100, 0}, {3 * day, 100, 1}},
			at:      3*day + 10*time.Minute,
			want:    []bool{true, false, false, false},
		},
		{
			name:    "an outage that ended an hour ago fires only the tiers whose short window still holds it",
			profile: []Segment{{0, 100, 0}, {3 * day, 100, 1}, {3*day + 30*time.Minute, 100, 0}},
			at:      3*day + 90*time.Minute,
			want:    []bool{false, false, true, true},
		},
		{
			name:    "one failure among six requests an hour is below the minimum events of the fast tier",
			profile: []Segment{{0, 0.1, 0}},
			failure: 3*day + time.Minute,
			at:      3*day + 5*time.Minute,
			want:    []bool{false, false, false, false},
		},
		{
			name:      "without the minimum the same failure pages",
			profile:   []Segment{{0, 0.1, 0}},
			failure:   3*day + time.Minute,
			at:        3*day + 5*time.Minute,
			minEvents: -1,
			want:      []bool{true, false, false, false},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := Scenario{Profile: tt.profile, Failure: tt.failure}
			m := m
			if tt.minEvents < 0 {
				m.MinEvents = 0
			}
			if diff := cmp.Diff(tt.want, sc.FiringAt(m, tt.at)); diff != "" {
				t.Errorf("firing tiers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFormatRatPrintsPlainDecimals(t *testing.T) {
	tests := []struct {
		name, objective, want string
	}{
		{"99.9 leaves 0.001, not 0.0009999999999999432", "99.9", "0.001"},
		{"99.95 leaves 0.0005", "99.95", "0.0005"},
		{"99.999 leaves 0.00001 without an exponent", "99.999", "0.00001"},
		{"a whole objective leaves a short budget", "95", "0.05"},
		{"a third of a percent rounds at 12 places", "99.6666666666666666", "0.003333333333"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Budget(tt.objective)
			if err != nil {
				t.Fatal(err)
			}
			if got := formatRat(b); got != tt.want {
				t.Errorf("budget of %s = %s; want %s", tt.objective, got, tt.want)
			}
		})
	}
}

func TestDurationTextRoundsToWholeMinutes(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{"fifty hours read as days and hours", 50 * time.Hour, "2d2h"},
		{"4.32 minutes round to 4m", 4*time.Minute + 19200*time.Millisecond, "4m"},
		{"under a minute keeps seconds", 20 * time.Second, "20s"},
		{"thirty days", 30 * 24 * time.Hour, "30d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := durationText(tt.in); got != tt.want {
				t.Errorf("durationText(%s) = %s; want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestRangeTextIsHalfAnIntervalShort(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{"an hour holds twelve 5m samples", time.Hour, "57m30s"},
		{"thirty minutes hold six", 30 * time.Minute, "27m30s"},
		{"thirty days", 30 * 24 * time.Hour, "29d23h57m30s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rangeText(tt.in); got != tt.want {
				t.Errorf("rangeText(%s) = %s; want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestSeriesValuesRoundTripsThroughRuns(t *testing.T) {
	nan := func() float64 { var z float64; return z / z }()
	tests := []struct {
		name string
		incs []float64
		want string
	}{
		{"a steady counter is one run", []float64{0, 2, 2, 2}, "0+2x3"},
		{"a change of rate starts a new run at the summed value", []float64{0, 1, 1, 3, 3}, "0+1x2 5+3x1"},
		{"a series born late is missing first", []float64{nan, nan, 4, 4}, "_x2 4+4x1"},
		{"a flat stretch is a run of zero", []float64{0, 0.1, 0, 0}, "0+0.1x1 0.1+0x1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SeriesValues(tt.incs); got != tt.want {
				t.Errorf("SeriesValues = %q; want %q", got, tt.want)
			}
		})
	}
}
