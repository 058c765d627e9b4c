package validate

import (
	"encoding/json"
	"fmt"
)

// Query is one PromQL query of a rendered dashboard: a panel target or a
// query variable's selector.
type Query struct {
	// PanelID and Panel name the panel; a variable's query has PanelID 0
	// and Panel "$name".
	PanelID int64
	Panel   string
	RefID   string
	// Expr is the query as the dashboard holds it.
	Expr string
	// Expanded is Expr as Grafana would send it with the dashboard's
	// defaults: template variables at their selected values (All as the
	// variable's all value), $__rate_interval as 5m, $__interval as 1m and
	// $__range as 1h. It is what a smoke test runs against a Prometheus.
	Expanded string
}

// DashboardQueries lists every Prometheus query of a dashboard, panels in
// document order (nested row panels after their row), then the query
// variables, so that a smoke test can run each against a real Prometheus.
// Queries on other datasource types (Loki, Tempo) are left out.
func DashboardQueries(dashboard []byte) ([]Query, error) {
	var d dashboardJSON
	if err := json.Unmarshal(dashboard, &d); err != nil {
		return nil, fmt.Errorf("read dashboard: %w", err)
	}
	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = parseVariable(v)
	}
	builtins := map[string]string{
		"__rate_interval": "5m",
		"__interval":      "1m",
		"__range":         "1h",
		"__interval_ms":   "60000",
		"__range_s":       "3600",
		"__range_ms":      "3600000",
	}
	plugin := func(raw json.RawMessage) string {
		var ref struct {
			Type string `json:"type"`
			UID  string `json:"uid"`
		}
		if json.Unmarshal(raw, &ref) != nil {
			return ""
		}
		if m := varRef.FindStringSubmatch(ref.UID); m != nil {
			if v, ok := vars[m[1]+m[2]+m[3]]; ok && v.kind == "datasource" {
				return v.plugin
			}
		}
		return ref.Type
	}
	var out []Query
	for _, p := range flatten(d.Panels) {
		panelPlugin := plugin(p.Datasource)
		for _, t := range p.Targets {
			pl := panelPlugin
			if len(t.Datasource) > 0 && string(t.Datasource) != "null" {
				pl = plugin(t.Datasource)
			}
			if pl != "prometheus" || t.Expr == "" {
				continue
			}
			var id int64
			if p.ID != nil {
				id = *p.ID
			}
			out = append(out, Query{PanelID: id, Panel: p.Title, RefID: t.RefID, Expr: t.Expr, Expanded: expand(t.Expr, vars, builtins)})
		}
	}
	for _, v := range d.Templating.List {
		vv := vars[v.Name]
		if v.Type != "query" || plugin(v.Datasource) != "prometheus" {
			continue
		}
		if expr, ok := variableQueryExpr(vv.query); ok {
			out = append(out, Query{Panel: "$" + v.Name, Expr: vv.query, Expanded: expand(expr, vars, builtins)})
		}
	}
	return out, nil
}
