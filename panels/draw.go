package panels

import (
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/text"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Standard panel heights, in grid rows.
const (
	statHeight  = 4
	graphHeight = 8
)

// spec is what a data panel shows.
type spec struct {
	title, desc, unit string
	queries           []query
	w                 uint32
	// steps are threshold steps above the base colour; line draws them on
	// a time series.
	steps     []step
	base      string
	line      bool
	min, max  *float64
	noValue   string
	axisLabel string
	stacked   bool
	// h overrides the panel's standard height.
	h uint32
}

// step is one threshold: from value upwards, the colour.
type step struct {
	value float64
	color string
}

func (s spec) thresholds() *dashboard.ThresholdsConfigBuilder {
	base := s.base
	if base == "" {
		base = "green"
	}
	steps := []dashboard.Threshold{{Value: nil, Color: base}}
	for _, st := range s.steps {
		v := st.value
		steps = append(steps, dashboard.Threshold{Value: &v, Color: st.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps)
}

func targets(qs []query) []cog.Builder[variants.Dataquery] {
	var out []cog.Builder[variants.Dataquery]
	for _, b := range promQueries(qs) {
		out = append(out, b)
	}
	return out
}

// graph builds a time series panel.
func graph(s spec) (Panel, error) {
	b := timeseries.NewPanelBuilder().
		Title(s.title).
		Description(s.desc).
		Datasource(Datasource("prometheus")).
		Targets(targets(s.queries)).
		Unit(s.unit).
		Thresholds(s.thresholds()).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending)).
		LineWidth(1).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever)
	if s.line && len(s.steps) > 0 {
		b.ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed))
	}
	if s.min != nil {
		b.Min(*s.min)
	}
	if s.max != nil {
		b.Max(*s.max)
	}
	if s.axisLabel != "" {
		b.AxisLabel(s.axisLabel)
	}
	if s.stacked {
		b.Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))
	}
	if s.noValue != "" {
		b.NoValue(s.noValue)
	}
	return build(b, width(s.w, 8), width(s.h, graphHeight))
}

// single builds a stat panel showing the last value of instant queries.
func single(s spec) (Panel, error) {
	for i := range s.queries {
		s.queries[i].instant = true
	}
	b := stat.NewPanelBuilder().
		Title(s.title).
		Description(s.desc).
		Datasource(Datasource("prometheus")).
		Targets(targets(s.queries)).
		Unit(s.unit).
		Thresholds(s.thresholds()).
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
		GraphMode(common.BigValueGraphModeNone).
		ColorMode(common.BigValueColorModeValue).
		TextMode(common.BigValueTextModeAuto).
		Orientation(common.VizOrientationAuto)
	if s.min != nil {
		b.Min(*s.min)
	}
	if s.max != nil {
		b.Max(*s.max)
	}
	if s.noValue != "" {
		b.NoValue(s.noValue)
	}
	return build(b, width(s.w, 6), width(s.h, statHeight))
}

// distribution builds a heatmap of a histogram's buckets as Prometheus
// returns them, without Grafana recalculating buckets.
func distribution(s spec) (Panel, error) {
	for i := range s.queries {
		s.queries[i].format = "heatmap"
		s.queries[i].legend = "{{le}}"
	}
	b := heatmap.NewPanelBuilder().
		Title(s.title).
		Description(s.desc).
		Datasource(Datasource("prometheus")).
		Targets(targets(s.queries)).
		Unit(s.unit).
		Calculate(false).
		YAxis(heatmap.NewYAxisConfigBuilder().Unit(s.unit)).
		CellValues(heatmap.NewCellValuesBuilder().Unit("short")).
		Color(heatmap.NewHeatmapColorOptionsBuilder().
			Mode(heatmap.HeatmapColorModeScheme).
			Scheme("Oranges").
			Scale(heatmap.HeatmapColorScaleExponential).
			Exponent(0.5).
			Steps(64)).
		Tooltip(heatmap.NewHeatmapTooltipBuilder().Mode(common.TooltipDisplayModeSingle).YHistogram(true)).
		ShowLegend()
	return build(b, width(s.w, 12), graphHeight)
}

// note builds a markdown text panel; it has no queries, so it needs no
// datasource and no unit.
func note(title, desc, content string, w, h uint32) (Panel, error) {
	b := text.NewPanelBuilder().
		Title(title).
		Description(desc).
		Mode(text.TextModeMarkdown).
		Content(content)
	return build(b, w, h)
}

// width is w, or def when w is unset; it serves heights too.
func width(w, def uint32) uint32 {
	if w == 0 {
		return def
	}
	return w
}

func ptr[T any](v T) *T { return &v }

// describe joins description sentences and appends the catalogue's note on
// a stage, so a caveat about a series is read where its panel is.
func describe(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !strings.HasSuffix(p, ".") {
			p += "."
		}
		out = append(out, p)
	}
	return strings.Join(out, " ")
}

// seriesList names series for descriptions: `a`, `b` and `c`.
func seriesList(names ...string) string {
	var q []string
	for _, n := range names {
		q = append(q, "`"+n+"`")
	}
	switch len(q) {
	case 0:
		return ""
	case 1:
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}
