package panels

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/aiobs/aiobs/compile/plan"
)

// DatasourceVariables are the three datasource variables, Prometheus
// first (dashboard-linter reads the first one to pick the query
// language), each defaulting to the uid the environment binds for its
// type.
func DatasourceVariables(env *plan.Environment) []cog.Builder[dashboard.VariableModel] {
	var out []cog.Builder[dashboard.VariableModel]
	for _, ds := range []struct {
		name, label string
		bound       plan.Datasource
	}{
		{PrometheusVar, "Prometheus data source", env.Datasources.Metrics},
		{LokiVar, "Loki data source", env.Datasources.Logs},
		{TempoVar, "Tempo data source", env.Datasources.Traces},
	} {
		out = append(out, dashboard.NewDatasourceVariableBuilder(ds.name).
			Label(ds.label).
			Description("The "+ds.bound.Type+" datasource of environment "+env.Name+"; aiobs binds "+ds.bound.UID+".").
			Type(ds.bound.Type).
			Current(option(ds.bound.UID, ds.bound.UID)).
			Hide(dashboard.VariableHideDontHide))
	}
	return out
}

// option is a variable's selected value.
func option(text, value string) dashboard.VariableOption {
	return dashboard.VariableOption{
		Selected: ptr(true),
		Text:     dashboard.StringOrArrayOfString{String: &text},
		Value:    dashboard.StringOrArrayOfString{String: &value},
	}
}

// Variables are the workload dashboard's query variables: the model
// (where the backend labels one; it defaults to the decided model and
// also lists adapters the same server serves) and the instance, both
// listed from a series every serving instance reports.
func Variables(c *Context) []cog.Builder[dashboard.VariableModel] {
	anchor := c.anchorSeries()
	if anchor == nil {
		return nil
	}
	var out []cog.Builder[dashboard.VariableModel]
	if label := c.Target.Backend.ModelLabel; label != "" {
		// List every model of the workload's servers: drop the model
		// matcher the fixed selector carries.
		var ms []plan.Matcher
		for _, m := range c.Target.Matchers(*anchor) {
			if m.Name != label {
				ms = append(ms, m)
			}
		}
		q := "label_values(" + anchor.Name + anchorSuffix(*anchor) + plan.FormatMatchers(ms) + ", " + label + ")"
		out = append(out, dashboard.NewQueryVariableBuilder(ModelVar).
			Label("Model").
			Description("Models served by the workload's servers ("+label+"); the decided model is "+c.Target.Workload.Model+".").
			Datasource(Datasource("prometheus")).
			Query(dashboard.StringOrMap{String: &q}).
			Definition(q).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).
			Multi(true).
			IncludeAll(false).
			Current(option(c.Target.Workload.Model, c.Target.Workload.Model)))
	}
	q := "label_values(" + c.selector(*anchor, anchorSuffix(*anchor), true, false) + ", instance)"
	out = append(out, dashboard.NewQueryVariableBuilder(InstanceVar).
		Label("Instance").
		Description("Serving instances of the workload; All matches series without an instance label too.").
		Datasource(Datasource("prometheus")).
		Query(dashboard.StringOrMap{String: &q}).
		Definition(q).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		Current(option("All", "$__all")))
	return out
}

// FleetVariables is the fleet dashboard's host variable. dcgm-exporter
// spells its host label Hostname or hostname depending on the release, so
// the variable reads both from one query and a regex picks the value.
func FleetVariables(env *plan.Environment) []cog.Builder[dashboard.VariableModel] {
	util := env.GPU.Util
	if util == "" {
		return nil
	}
	q := "query_result(count by (Hostname, hostname) (" + util + plan.FormatMatchers(envMatchers(env)) + "))"
	return []cog.Builder[dashboard.VariableModel]{
		dashboard.NewQueryVariableBuilder(HostVar).
			Label("Host").
			Description("GPU nodes, from dcgm-exporter's Hostname or hostname label.").
			Datasource(Datasource("prometheus")).
			Query(dashboard.StringOrMap{String: &q}).
			Definition(q).
			Regex(`/[Hh]ostname="([^"]+)"/`).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).
			Multi(true).
			IncludeAll(true).
			AllValue(".*").
			Current(option("All", "$__all")),
	}
}

// anchorSeries is the first catalogue series every serving instance
// reports, or nil.
func (c *Context) anchorSeries() *plan.Series {
	for _, st := range []string{"running", "queueDepth", "requests", "successes", "e2e", "ttft"} {
		if s, ok := c.stage(st); ok {
			return &s
		}
	}
	return nil
}

func anchorSuffix(s plan.Series) string {
	if s.Type == "histogram" || s.Type == "summary" {
		return "_count"
	}
	return ""
}
