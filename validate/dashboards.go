package validate

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/encode"
)

// Size limits of a dashboard ConfigMap: kubectl apply's last-applied
// annotation and the API server's object limit.
const (
	maxAppliedBytes   = 262144
	maxConfigMapBytes = 1 << 20
)

// checkDashboards proves that every dashboard will bind and query in its
// environment: datasource references resolve to a datasource of the right
// type (DATASOURCE_UNBOUND, DATASOURCE_TYPE) and never fall back to
// Grafana's default (DATASOURCE_DEFAULT); every PromQL query parses
// (PROMQL_PARSE), rates over $__rate_interval (RATE_INTERVAL) and names
// only series the workload's catalogue, the environment's GPU set, the
// quality contract, Tempo's metrics-generator or an aiobs: recording
// defines (METRIC_UNKNOWN); every query runs on its panel's datasource type
// and holds what that type reads: expr for Prometheus and Loki, TraceQL or
// a service-map filter for Tempo (DATASOURCE_TYPE); every
// panel has a unit and a description (PANEL_UNIT, PANEL_DESCRIPTION), an
// id of its own (PANEL_ID_MISSING, PANEL_ID_DUPLICATE) and a place on the
// grid that no other panel takes (PANEL_OVERLAP); and every sidecar
// ConfigMap fits through kubectl apply (CONFIGMAP_TOO_LARGE).
func checkDashboards(a *artifacts) diag.List {
	return a.each(func(f *artifact) diag.List {
		parts := strings.Split(f.Path, "/")
		if len(parts) < 3 {
			return nil
		}
		env := a.plan.Environment(parts[0])
		switch {
		case parts[1] == "grafana" && parts[2] == "dashboards" && path.Ext(f.Path) == ".json" && env != nil:
			return checkDashboard(a, env, f)
		case isDashboardConfigMap(f.Path):
			var pos diag.Pos
			if env != nil {
				pos, _ = a.dashboardOwner(env, strings.TrimSuffix(path.Base(f.Path), ".yaml"))
			}
			return checkConfigMap(f, pos)
		}
		return nil
	})
}

// dashCheck carries what the checks of one dashboard share.
type dashCheck struct {
	path  string
	pos   diag.Pos
	env   *plan.Environment
	known map[string]bool
	vars  map[string]variable
	refs  map[string]dsRef
	out   diag.List
}

func (c *dashCheck) finding(rule, format string, args ...any) {
	c.out = append(c.out, diag.Diagnostic{Pos: c.pos, Rule: rule, Severity: diag.Error, Artifact: c.path, Msg: fmt.Sprintf(format, args...)})
}

// dashboardJSON is the part of a dashboard the checks read. Datasource
// references stay raw: a legacy dashboard names them by a bare string.
type dashboardJSON struct {
	UID        string      `json:"uid"`
	Panels     []panelJSON `json:"panels"`
	Templating struct {
		List []variableJSON `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []struct {
			Name       string          `json:"name"`
			BuiltIn    float64         `json:"builtIn"`
			Datasource json.RawMessage `json:"datasource"`
			Expr       string          `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
}

type panelJSON struct {
	ID          *int64          `json:"id"`
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Datasource  json.RawMessage `json:"datasource"`
	GridPos     *struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets     []targetJSON `json:"targets"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Options struct {
		YAxis struct {
			Unit string `json:"unit"`
		} `json:"yAxis"`
	} `json:"options"`
	Collapsed bool        `json:"collapsed"`
	Panels    []panelJSON `json:"panels"`
}

type targetJSON struct {
	RefID      string          `json:"refId"`
	Expr       string          `json:"expr"`
	Datasource json.RawMessage `json:"datasource"`
	Hide       bool            `json:"hide"`
	// Query is a Tempo target's TraceQL; a service-map target holds its
	// filters in ServiceMapQuery instead.
	Query           string          `json:"query"`
	QueryType       string          `json:"queryType"`
	ServiceMapQuery json.RawMessage `json:"serviceMapQuery"`
}

type variableJSON struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource json.RawMessage `json:"datasource"`
	Current    struct {
		Value json.RawMessage `json:"value"`
	} `json:"current"`
	AllValue string `json:"allValue"`
}

// variable is a template variable as the checks use it.
type variable struct {
	kind string // datasource, query, custom, ...
	// plugin is a datasource variable's plugin type.
	plugin string
	// values are the selected values; all is the All option's regex.
	values []string
	all    string
	query  string
	ds     json.RawMessage
}

func checkDashboard(a *artifacts, env *plan.Environment, f *artifact) diag.List {
	c := &dashCheck{path: f.Path, env: env}
	d := &f.dash.dashboardJSON
	if f.dash.err != nil {
		// The shared decode failed, maybe on a field only the taxonomy
		// reads: decode alone, for this check's own verdict.
		d = new(dashboardJSON)
		if err := json.Unmarshal(f.Bytes, d); err != nil {
			c.finding("DASHBOARD_JSON", "not a dashboard: %v", err)
			return c.out
		}
	}
	c.pos, c.known = a.dashboardScope(env, d.UID)
	c.vars = map[string]variable{}
	for _, v := range d.Templating.List {
		c.vars[v.Name] = parseVariable(v)
	}

	for _, v := range d.Templating.List {
		c.checkVariable(v)
	}
	for _, a := range d.Annotations.List {
		where := fmt.Sprintf("annotation %q", a.Name)
		if a.BuiltIn == 1 {
			c.resolve(where, a.Datasource, "", false)
			continue
		}
		plugin := c.resolve(where, a.Datasource, "", true)
		if plugin == "prometheus" && a.Expr != "" {
			c.promQL(where, a.Expr)
		}
	}
	all := flatten(d.Panels)
	for _, pn := range all {
		c.checkPanel(pn)
	}
	c.checkIDs(all)
	c.checkGrid(d.Panels)
	return c.out
}

// tempoGenerated are the series Tempo's metrics-generator writes into the
// metrics datasource from spans, whatever the workload's backend: the span
// metrics and the service graph (reference/loki-tempo.md §5.4). They are a
// known contract, listed by name so that a misspelt one is still caught.
var tempoGenerated = []string{
	"traces_spanmetrics_calls_total",
	"traces_spanmetrics_size_total",
	"traces_spanmetrics_latency", "traces_spanmetrics_latency_bucket", "traces_spanmetrics_latency_sum", "traces_spanmetrics_latency_count",
	"traces_target_info",
	"traces_service_graph_request_total",
	"traces_service_graph_request_failed_total",
	"traces_service_graph_request_server_seconds", "traces_service_graph_request_server_seconds_bucket",
	"traces_service_graph_request_server_seconds_sum", "traces_service_graph_request_server_seconds_count",
	"traces_service_graph_request_client_seconds", "traces_service_graph_request_client_seconds_bucket",
	"traces_service_graph_request_client_seconds_sum", "traces_service_graph_request_client_seconds_count",
	"traces_service_graph_request_messaging_system_seconds", "traces_service_graph_request_messaging_system_seconds_bucket",
	"traces_service_graph_request_messaging_system_seconds_sum", "traces_service_graph_request_messaging_system_seconds_count",
	"traces_service_graph_connection_info",
	"traces_service_graph_unpaired_spans_total",
	"traces_service_graph_dropped_spans_total",
}

// dashboardScope finds the decision a dashboard renders and the metric
// names its queries may use. A workload dashboard may use its backend's
// catalogue, a team's cost dashboard those of the team's workloads, and
// any other dashboard (the fleet's) every catalogue; all may use the
// environment's GPU set, the contract, Tempo's metrics-generator series
// and aiobs: recordings.
func (a *artifacts) dashboardScope(env *plan.Environment, uid string) (diag.Pos, map[string]bool) {
	known := map[string]bool{}
	// The environment's GPU set: the standard's, less what its gpuprobe
	// reports say has no data there, so a query on a dropped metric is
	// caught as well as one on a misspelt metric.
	g := env.GPU
	for _, n := range []string{g.Util, g.FBUsed, g.FBFree, g.Power, g.Temp, g.MemTemp, g.SMActive, g.XID, g.ECCDBE, g.ClockEvents} {
		known[n] = true
	}
	k := a.plan.Standard.Contract
	for _, n := range []string{k.EvalScore, k.EvalBaseline, k.EvalLastRun, k.DriftScore, k.DriftThreshold, k.ToolCalls, k.GuardrailTriggers, k.Retries} {
		known[n] = true
	}
	for _, n := range tempoGenerated {
		known[n] = true
	}
	delete(known, "")
	pos, backends := a.dashboardOwner(env, uid)
	for _, b := range backends {
		if b == nil {
			continue
		}
		for _, s := range b.Stages {
			for _, n := range seriesNames(s) {
				known[n] = true
			}
		}
	}
	return pos, known
}

// dashboardOwner finds the decision a dashboard renders, its position and
// the backends whose catalogues its queries may use.
func (a *artifacts) dashboardOwner(env *plan.Environment, uid string) (diag.Pos, []*plan.Backend) {
	if t := a.workloadDashboards[envKey{env.Name, uid}]; t != nil {
		return t.Workload.Pos, []*plan.Backend{t.Backend}
	}
	if ts := a.costDashboards[envKey{env.Name, uid}]; len(ts) > 0 {
		var backends []*plan.Backend
		for _, t := range ts {
			backends = append(backends, t.Backend)
		}
		return ts[len(ts)-1].Team.Pos, backends
	}
	return env.Pos, a.plan.Backends
}

// seriesNames are the names a catalogue series appears under on the wire.
func seriesNames(s plan.Series) []string {
	switch s.Type {
	case "histogram":
		return []string{s.Name, s.Name + "_bucket", s.Name + "_sum", s.Name + "_count"}
	case "summary":
		return []string{s.Name, s.Name + "_sum", s.Name + "_count"}
	}
	return []string{s.Name}
}

func parseVariable(v variableJSON) variable {
	out := variable{kind: v.Type, all: v.AllValue, ds: v.Datasource}
	var q string
	if json.Unmarshal(v.Query, &q) == nil {
		out.query = q
	} else {
		var m struct {
			Query string `json:"query"`
		}
		if json.Unmarshal(v.Query, &m) == nil {
			out.query = m.Query
		}
	}
	if v.Type == "datasource" {
		out.plugin = out.query
	}
	var one string
	var many []string
	switch {
	case json.Unmarshal(v.Current.Value, &one) == nil:
		out.values = []string{one}
	case json.Unmarshal(v.Current.Value, &many) == nil:
		out.values = many
	}
	return out
}

// bound returns the environment's datasource of a plugin type.
func (c *dashCheck) bound(plugin string) (plan.Datasource, bool) {
	for _, ds := range []plan.Datasource{c.env.Datasources.Metrics, c.env.Datasources.Logs, c.env.Datasources.Traces} {
		if ds.Type == plugin {
			return ds, true
		}
	}
	return plan.Datasource{}, false
}

func (c *dashCheck) checkVariable(v variableJSON) {
	vv := c.vars[v.Name]
	where := fmt.Sprintf("variable %q", v.Name)
	switch v.Type {
	case "datasource":
		ds, ok := c.bound(vv.plugin)
		switch {
		case !ok:
			c.finding("DATASOURCE_UNBOUND", "%s: environment %s binds no %s datasource", where, c.env.Name, vv.plugin)
		case len(vv.values) != 1 || vv.values[0] != ds.UID:
			c.finding("DATASOURCE_UNBOUND", "%s defaults to %s, but environment %s binds %s datasource %s",
				where, strings.Join(vv.values, ","), c.env.Name, vv.plugin, ds.UID)
		}
	case "query":
		plugin := c.resolve(where, v.Datasource, "", true)
		if plugin == "prometheus" {
			if expr, ok := variableQueryExpr(vv.query); ok {
				c.promQL(where, expr)
			}
		}
	}
}

// variableQueryExpr is the PromQL inside a Prometheus variable query:
// label_values(<selector>, label), query_result(<expr>); ok is false for
// queries without one (label_values(label), label_names()).
func variableQueryExpr(q string) (string, bool) {
	q = strings.TrimSpace(q)
	for _, fn := range []string{"label_values(", "query_result(", "metrics("} {
		if !strings.HasPrefix(q, fn) || !strings.HasSuffix(q, ")") {
			continue
		}
		inner := strings.TrimSpace(q[len(fn) : len(q)-1])
		if fn == "label_values(" {
			i := strings.LastIndex(inner, ",")
			if i < 0 {
				return "", false
			}
			inner = strings.TrimSpace(inner[:i])
		}
		if fn == "metrics(" {
			return "", false
		}
		return inner, inner != ""
	}
	return "", false
}

var varRef = regexp.MustCompile(`^\$\{(\w+)(?::[^}]*)?\}$|^\$(\w+)$|^\[\[(\w+)(?::[^\]]*)?\]\]$`)

// resolve checks a datasource reference and returns its plugin type ("" if
// unknown). A missing reference is Grafana's default datasource, an error
// where required.
func (c *dashCheck) resolve(where string, raw json.RawMessage, want string, required bool) string {
	if len(raw) == 0 || string(raw) == "null" {
		if required {
			c.finding("DATASOURCE_DEFAULT", "%s names no datasource, so Grafana uses its default; reference a <type>_datasource variable", where)
		}
		return ""
	}
	ref := c.decodeRef(raw)
	if ref.byName {
		if m := varRef.FindStringSubmatch(ref.name); m != nil {
			return c.resolveVar(where, m[1]+m[2]+m[3], want)
		}
		c.finding("DATASOURCE_UNBOUND", "%s names datasource %q by name, which no environment binding can check; reference a <type>_datasource variable", where, ref.name)
		return ""
	}
	if ref.err != nil {
		c.finding("DATASOURCE_UNBOUND", "%s: unreadable datasource reference: %v", where, ref.err)
		return ""
	}
	typ, uid := ref.typ, ref.uid
	if want == "" {
		want = typ
	}
	switch {
	case uid == "" || uid == "default":
		if required || uid == "default" {
			c.finding("DATASOURCE_DEFAULT", "%s names no datasource uid, so Grafana uses its default; reference a <type>_datasource variable", where)
		}
		return typ
	case uid == "-- Grafana --" || uid == "grafana" || uid == "-- Mixed --" || uid == "-- Dashboard --":
		return typ
	}
	if m := varRef.FindStringSubmatch(uid); m != nil {
		return c.resolveVar(where, m[1]+m[2]+m[3], want)
	}
	for _, ds := range []plan.Datasource{c.env.Datasources.Metrics, c.env.Datasources.Logs, c.env.Datasources.Traces} {
		if ds.UID != uid {
			continue
		}
		if want != "" && ds.Type != want {
			c.finding("DATASOURCE_TYPE", "%s wants a %s datasource, but %s is environment %s's %s datasource", where, want, uid, c.env.Name, ds.Type)
		}
		return ds.Type
	}
	c.finding("DATASOURCE_UNBOUND", "%s uses datasource %s, which environment %s does not bind", where, uid, c.env.Name)
	return typ
}

// dsRef is a decoded datasource reference: a legacy name, or a type and
// uid.
type dsRef struct {
	byName   bool
	name     string
	typ, uid string
	err      error
}

// decodeRef decodes a datasource reference once per dashboard: a
// dashboard names a handful of datasources hundreds of times.
func (c *dashCheck) decodeRef(raw json.RawMessage) dsRef {
	if r, ok := c.refs[string(raw)]; ok {
		return r
	}
	var r dsRef
	if json.Unmarshal(raw, &r.name) == nil {
		r.byName = true
	} else {
		var ref struct {
			Type *string `json:"type"`
			UID  *string `json:"uid"`
		}
		if r.err = json.Unmarshal(raw, &ref); r.err == nil {
			r.typ, r.uid = deref(ref.Type), deref(ref.UID)
		}
	}
	if c.refs == nil {
		c.refs = map[string]dsRef{}
	}
	c.refs[string(raw)] = r
	return r
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (c *dashCheck) resolveVar(where, name, want string) string {
	v, ok := c.vars[name]
	if !ok || v.kind != "datasource" {
		c.finding("DATASOURCE_UNBOUND", "%s references $%s, which is not a datasource variable of the dashboard", where, name)
		return ""
	}
	if want != "" && v.plugin != want {
		c.finding("DATASOURCE_TYPE", "%s wants a %s datasource, but $%s lists %s datasources", where, want, name, v.plugin)
	}
	return v.plugin
}

// dataPanels are the panel types that show numbers and so need a unit.
var dataPanels = []string{"timeseries", "stat", "gauge", "bargauge", "table", "heatmap", "barchart", "piechart",
	"histogram", "trend", "xychart", "state-timeline", "status-history", "candlestick", "graph", "singlestat"}

func (c *dashCheck) checkPanel(pn panelJSON) {
	if pn.Type == "row" {
		return
	}
	where := describePanel(pn)
	if strings.TrimSpace(pn.Description) == "" {
		c.finding("PANEL_DESCRIPTION", "%s has no description", where)
	}
	if slices.Contains(dataPanels, pn.Type) && pn.FieldConfig.Defaults.Unit == "" && pn.Options.YAxis.Unit == "" {
		c.finding("PANEL_UNIT", "%s has no unit", where)
	}
	if len(pn.Targets) == 0 {
		return
	}
	panelPlugin := c.resolve(where, pn.Datasource, "", true)
	for _, t := range pn.Targets {
		twhere := fmt.Sprintf("%s query %s", where, t.RefID)
		plugin := panelPlugin
		if len(t.Datasource) > 0 && string(t.Datasource) != "null" {
			plugin = c.resolve(twhere, t.Datasource, "", false)
			// Only a mixed panel (its ref's type is "datasource") may run
			// queries on datasources of other types.
			if panelPlugin != "" && panelPlugin != "datasource" && plugin != "" && plugin != panelPlugin {
				c.finding("DATASOURCE_TYPE", "%s runs on a %s datasource, but its panel is on a %s datasource; Grafana sends it to one of them only", twhere, plugin, panelPlugin)
			}
		}
		switch plugin {
		case "prometheus":
			if t.Expr != "" {
				c.promQL(twhere, t.Expr)
			}
		case "loki":
			if strings.TrimSpace(t.Expr) == "" {
				c.finding("DATASOURCE_TYPE", "%s runs on a loki datasource but holds no LogQL expr", twhere)
			}
		case "tempo":
			serviceMap := len(t.ServiceMapQuery) > 0 && string(t.ServiceMapQuery) != "null"
			switch {
			case t.Expr != "":
				c.finding("DATASOURCE_TYPE", "%s runs on a tempo datasource but holds an expr, which Tempo does not read; put TraceQL in query", twhere)
			case t.QueryType == "serviceMap" && !serviceMap:
				c.finding("DATASOURCE_TYPE", "%s is a Tempo service-map query without serviceMapQuery filters, so it draws every service", twhere)
			case t.QueryType != "serviceMap" && strings.TrimSpace(t.Query) == "":
				c.finding("DATASOURCE_TYPE", "%s runs on a tempo datasource but holds no TraceQL query", twhere)
			}
		}
	}
}

func describePanel(pn panelJSON) string {
	id := "without id"
	if pn.ID != nil {
		id = fmt.Sprint(*pn.ID)
	}
	return fmt.Sprintf("panel %s %q", id, pn.Title)
}

// rateIntervalSentinel stands in for $__rate_interval while parsing, so a
// rate over any other range can be told apart.
const rateIntervalSentinel = 4321 * time.Second

// checkBuiltins are Grafana's interval variables as the checks expand them.
var checkBuiltins = map[string]string{
	"__rate_interval": "4321s",
	"__interval":      "1m",
	"__range":         "1h",
	"__interval_ms":   "60000",
	"__range_s":       "3600",
	"__range_ms":      "3600000",
}

// promQL parses an expression after expanding Grafana's variables and
// checks its rates and metric names.
func (c *dashCheck) promQL(where, expr string) {
	expanded := expand(expr, c.vars, checkBuiltins)
	e, err := promqlParser.ParseExpr(expanded)
	if err != nil {
		c.finding("PROMQL_PARSE", "%s does not parse: %s", where, oneLine(err.Error()))
		return
	}
	var unknown []string
	parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
		switch n := n.(type) {
		case *parser.Call:
			if n.Func.Name != "rate" && n.Func.Name != "irate" {
				return nil
			}
			for _, a := range n.Args {
				if m, ok := a.(*parser.MatrixSelector); ok && m.Range != rateIntervalSentinel {
					c.finding("RATE_INTERVAL", "%s takes %s over %s; use [$__rate_interval]", where, n.Func.Name, m.Range)
				}
			}
		case *parser.VectorSelector:
			name := n.Name
			if name == "" {
				for _, m := range n.LabelMatchers {
					if m.Name == "__name__" && m.Type == labels.MatchEqual {
						name = m.Value
					}
				}
			}
			if name != "" && !strings.HasPrefix(name, "aiobs:") && !c.known[name] && !slices.Contains(unknown, name) {
				unknown = append(unknown, name)
			}
		}
		return nil
	})
	for _, n := range unknown {
		hint := ""
		for _, alt := range []string{n + "_total", strings.TrimSuffix(n, "_total")} {
			if alt != n && c.known[alt] {
				hint = fmt.Sprintf(" (did you mean %s?)", alt)
			}
		}
		c.finding("METRIC_UNKNOWN", "%s reads %s, which neither the workload's catalogue, the environment's GPU set, the quality contract nor Tempo's metrics-generator defines%s", where, n, hint)
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

var grafanaVar = regexp.MustCompile(`\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]`)

// expand replaces Grafana's variables in a query as Grafana would before
// sending it: built-in intervals by the given values, template variables
// by their selected values (All by the variable's all value, several
// values as an alternation). Unknown names are left as they are, so a
// reference to a missing variable fails to parse unless it sits inside a
// string (label_replace's $1).
func expand(expr string, vars map[string]variable, builtins map[string]string) string {
	var b strings.Builder
	last := 0
	for _, m := range grafanaVar.FindAllStringSubmatchIndex(expr, -1) {
		b.WriteString(expr[last:m[0]])
		last = m[1]
		name := ""
		for g := 2; g < len(m); g += 2 {
			if m[g] >= 0 {
				name += expr[m[g]:m[g+1]]
			}
		}
		if v, ok := builtins[name]; ok {
			b.WriteString(v)
			continue
		}
		v, ok := vars[name]
		switch {
		case !ok:
			b.WriteString(expr[m[0]:m[1]])
		case len(v.values) == 1 && (v.values[0] == "$__all" || v.values[0] == "All") || slices.Contains(v.values, "$__all"):
			b.WriteString(cmp.Or(v.all, ".*"))
		case len(v.values) == 1:
			b.WriteString(v.values[0])
		default:
			b.WriteString("(" + strings.Join(v.values, "|") + ")")
		}
	}
	b.WriteString(expr[last:])
	return b.String()
}

// flatten lists every panel, nested ones of collapsed rows included.
func flatten(ps []panelJSON) []panelJSON {
	var out []panelJSON
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flatten(p.Panels)...)
	}
	return out
}

func (c *dashCheck) checkIDs(all []panelJSON) {
	seen := map[int64]string{}
	for _, p := range all {
		if p.ID == nil || *p.ID == 0 {
			c.finding("PANEL_ID_MISSING", "%s has no id; links and alerts cannot name it", describePanel(p))
			continue
		}
		if prev, ok := seen[*p.ID]; ok {
			c.finding("PANEL_ID_DUPLICATE", "%s has the id of panel %q", describePanel(p), prev)
			continue
		}
		seen[*p.ID] = p.Title
	}
}

// checkGrid finds panels off the 24-column grid or on top of each other,
// at the top level and inside each collapsed row.
func (c *dashCheck) checkGrid(ps []panelJSON) {
	var placed []panelJSON
	for _, p := range ps {
		if p.GridPos == nil {
			c.finding("PANEL_OVERLAP", "%s has no gridPos", describePanel(p))
			continue
		}
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			c.finding("PANEL_OVERLAP", "%s lies outside the 24-column grid (x=%d w=%d)", describePanel(p), g.X, g.W)
		}
		for _, q := range placed {
			h := q.GridPos
			if g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
				c.finding("PANEL_OVERLAP", "%s overlaps %s", describePanel(p), describePanel(q))
			}
		}
		placed = append(placed, p)
		if len(p.Panels) > 0 {
			c.checkGrid(p.Panels)
		}
	}
}

// parseConfigMap reads a dashboard ConfigMap. The renderer writes its one
// data key with a dashboard of the artifact set as a literal block; where
// the block holds that dashboard byte for byte, only the header is parsed,
// and the dashboard is left where it is rather than copied into the
// document: only checkConfigMap reads it.
func (a *artifacts) parseConfigMap(f *artifact) *yamlDoc {
	head, rest, ok := splitNested(f.Bytes, "data")
	if !ok {
		return parseYAML(f.Bytes)
	}
	line, block, literal := bytes.Cut(rest, []byte(": |\n"))
	key, indentedKey := strings.CutPrefix(string(line), "  ")
	dash := a.file(a.dashboardFiles[envKey{envOf(f.Path), key}])
	if !literal || !indentedKey || !encode.PlainKey(key) || dash == nil || !encode.LiteralBlock(dash.Bytes) || !indented(block, dash.Bytes, "    ") {
		return parseYAML(f.Bytes)
	}
	return &yamlDoc{node: *head, data: key, repeats: dash}
}

// checkConfigMap refuses a dashboard ConfigMap that client-side kubectl
// apply (its last-applied annotation) or the API server would reject.
func checkConfigMap(f *artifact, pos diag.Pos) diag.List {
	var obj map[string]any
	if err := f.doc.decode(&obj); err != nil {
		return diag.List{{Pos: pos, Rule: "CONFIGMAP_YAML", Severity: diag.Error, Artifact: f.Path, Msg: "not a Kubernetes object: " + oneLine(err.Error())}}
	}
	if d := f.doc; d.repeats != nil {
		obj["data"] = map[string]any{d.data: string(d.repeats.Bytes)}
	}
	applied, err := json.Marshal(obj)
	if err != nil {
		return diag.List{{Pos: pos, Rule: "CONFIGMAP_YAML", Severity: diag.Error, Artifact: f.Path, Msg: "not JSON-encodable: " + oneLine(err.Error())}}
	}
	n := len(applied)
	switch {
	case n > maxConfigMapBytes:
		return diag.List{{Pos: pos, Rule: "CONFIGMAP_TOO_LARGE", Severity: diag.Error, Artifact: f.Path,
			Msg: fmt.Sprintf("ConfigMap is %d bytes, over the API server's 1 MiB object limit (%d)", n, maxConfigMapBytes)}}
	case n > maxAppliedBytes:
		return diag.List{{Pos: pos, Rule: "CONFIGMAP_TOO_LARGE", Severity: diag.Error, Artifact: f.Path,
			Msg: fmt.Sprintf("ConfigMap is %d bytes, over the 262144-byte annotation limit of kubectl apply; apply it server-side or split the dashboard", n)}}
	}
	return nil
}

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
