// Package panels is the panel library: one builder per metric family
// (health, stage latency, throughput and errors, scheduler and caches,
// quality, agent tools, cost, logs, traces, GPU), each choosing its
// queries from the target's backend catalogue, the standard's GPU set, the
// quality contract and the log and span conventions, and building Grafana
// panels with the foundation SDK.
//
// A builder returns a Row: a title and panels with their sizes. It never
// places panels or numbers them; render/grafana lays rows out on the grid,
// gives ids in document order and assembles dashboards. Builders read the
// plan only; they know nothing about files or environments beyond the
// target they are given.
//
// Every query names its datasource through the <type>_datasource template
// variables (PrometheusVar, LokiVar, TempoVar), never Grafana's default,
// every rate uses $__rate_interval, and every panel has a unit and a
// description. A stage the backend does not expose yields no panel but a
// line in its row's note panel, so no panel ever shows an empty "No data".
package panels

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/aiobs/aiobs/compile/plan"
)

// Names of the datasource template variables, one per plugin type, as
// grafana/dashboard-linter expects them when a dashboard has several.
const (
	PrometheusVar = "prometheus_datasource"
	LokiVar       = "loki_datasource"
	TempoVar      = "tempo_datasource"
)

// Names of the query template variables of the workload dashboard.
const (
	ModelVar    = "model"
	InstanceVar = "instance"
)

// Context is what a builder reads: one target and the standard.
type Context struct {
	Target   *plan.Target
	Standard *plan.Standard
	// Fixed makes selectors name the decided model and every instance
	// instead of the $model and $instance variables, for dashboards that
	// have no such variables (the team cost dashboard).
	Fixed bool
}

// Panel is one built panel with its size on the 24-column grid.
type Panel struct {
	Panel dashboard.Panel
	W, H  uint32
}

// Row is a titled band of panels, laid out left to right and wrapped at
// the grid's width.
type Row struct {
	Title  string
	Panels []Panel
}

// RowFunc builds one row of a dashboard. A row with no panels is left out.
type RowFunc func(c *Context) (Row, error)

// Workload returns the row builders of the standard workload dashboard,
// top to bottom: what users feel, how inference behaves, quality and cost,
// the workload's logs and traces, and the GPUs underneath. Another family
// adds its row by writing a RowFunc and inserting it here (before GPU, so
// infrastructure stays at the bottom).
func Workload() []RowFunc {
	return []RowFunc{Health, Latency, Throughput, Scheduler, Quality, Agent, Cost, Logs, Traces, GPU}
}

// Datasource returns the reference to the datasource variable of a plugin
// type; queries and panels carry it so that nothing falls back to
// Grafana's default datasource.
func Datasource(pluginType string) common.DataSourceRef {
	uid := "${" + pluginType + "_datasource}"
	return common.DataSourceRef{Type: &pluginType, Uid: &uid}
}

// build runs a panel builder and attaches the size.
func build(b cog.Builder[dashboard.Panel], w, h uint32) (Panel, error) {
	p, err := b.Build()
	if err != nil {
		return Panel{}, fmt.Errorf("build panel: %w", err)
	}
	return Panel{Panel: p, W: w, H: h}, nil
}
