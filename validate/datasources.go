package validate

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
)

// checkDatasources proves that an environment's datasource provisioning
// (<env>/grafana/provisioning/datasources/*.yaml) provides what its
// dashboards bind to and that its correlations resolve:
//
//   - DATASOURCE_PROVISIONING: the file reads as Grafana provisioning;
//   - DATASOURCE_UID: every uid is 1 to 40 letters, digits, - or _, and no
//     uid or name is provisioned twice;
//   - DATASOURCE_NOT_PROVISIONED: the metrics, logs and traces uids the
//     environment binds (and its dashboards name) are provisioned with the
//     bound plugin type;
//   - CORRELATION_UNBOUND: every correlation names a provisioned
//     datasource of the type it needs: Loki derived fields and Prometheus
//     exemplar destinations a tracing one, Tempo's trace-to-logs a Loki one,
//     trace-to-metrics and the service map a Prometheus one;
//   - PROVISIONING_UNESCAPED: Grafana's own variables (${__value.raw},
//     $__tags) are written with $$, or Grafana's environment expansion
//     replaces them with nothing;
//   - STREAM_LABEL_NOT_ALLOWED, RAW_STREAM_IN_STANDARD_DASHBOARD: Tempo's
//     trace-to-logs link maps span attributes to stream labels only and its
//     query reads only the redacted stream;
//   - CORRELATION_TRACE_ID (warning): exemplars of Tempo's generator
//     (traceID) and trace ids in OTLP structured metadata (a derived field
//     with matcherType label) link to traces.
//
// Files that do not exist are not required: an organisation may provision
// datasources another way.
func checkDatasources(a *artifacts) diag.List {
	return a.each(func(f *artifact) diag.List {
		if !isDatasourceProvisioning(f.Path) {
			return nil
		}
		c := &dsCheck{path: f.Path, std: &a.plan.Standard, env: a.plan.Environment(envOf(f.Path))}
		c.check(f.doc)
		return c.out
	})
}

type dsCheck struct {
	path string
	std  *plan.Standard
	env  *plan.Environment
	out  diag.List
}

func (c *dsCheck) finding(sev diag.Severity, pos diag.Pos, rule, format string, args ...any) {
	c.out = append(c.out, diag.Diagnostic{Pos: pos, Rule: rule, Severity: sev, Artifact: c.path, Msg: fmt.Sprintf(format, args...)})
}

type provisionedDatasources struct {
	Datasources []provisionedDatasource `yaml:"datasources"`
}

type provisionedDatasource struct {
	Name     string `yaml:"name"`
	Type     string `yaml:"type"`
	UID      string `yaml:"uid"`
	JSONData struct {
		ExemplarTraceIDDestinations []struct {
			Name          string `yaml:"name"`
			DatasourceUID string `yaml:"datasourceUid"`
		} `yaml:"exemplarTraceIdDestinations"`
		DerivedFields []struct {
			Name          string `yaml:"name"`
			MatcherType   string `yaml:"matcherType"`
			MatcherRegex  string `yaml:"matcherRegex"`
			DatasourceUID string `yaml:"datasourceUid"`
		} `yaml:"derivedFields"`
		TracesToLogsV2 *struct {
			DatasourceUID string `yaml:"datasourceUid"`
			Tags          []struct {
				Key   string `yaml:"key"`
				Value string `yaml:"value"`
			} `yaml:"tags"`
			CustomQuery bool   `yaml:"customQuery"`
			Query       string `yaml:"query"`
		} `yaml:"tracesToLogsV2"`
		TracesToMetrics *struct {
			DatasourceUID string `yaml:"datasourceUid"`
		} `yaml:"tracesToMetrics"`
		ServiceMap *struct {
			DatasourceUID string `yaml:"datasourceUid"`
		} `yaml:"serviceMap"`
	} `yaml:"jsonData"`
}

var datasourceUID = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,40}$`)

// tracingTypes are the plugin types a trace link may target.
var tracingTypes = []string{"tempo", "jaeger", "zipkin", "grafana-x-ray-datasource"}

func (c *dsCheck) check(doc *yamlDoc) {
	var f provisionedDatasources
	if err := doc.decode(&f); err != nil {
		c.finding(diag.Error, diag.Pos{}, "DATASOURCE_PROVISIONING", "not Grafana datasource provisioning: %s", oneLineErr(err))
		return
	}
	c.escapes(&doc.node)
	byUID := map[string]provisionedDatasource{}
	names := map[string]bool{}
	for _, d := range f.Datasources {
		if !datasourceUID.MatchString(d.UID) {
			c.finding(diag.Error, diag.Pos{}, "DATASOURCE_UID", "datasource %q has uid %q; want 1 to 40 letters, digits, - or _", d.Name, d.UID)
		}
		if _, dup := byUID[d.UID]; dup {
			c.finding(diag.Error, diag.Pos{}, "DATASOURCE_UID", "uid %s is provisioned twice", d.UID)
		}
		if names[d.Name] {
			c.finding(diag.Error, diag.Pos{}, "DATASOURCE_UID", "name %q is provisioned twice; Grafana names are unique per organisation", d.Name)
		}
		byUID[d.UID], names[d.Name] = d, true
	}
	if c.env != nil {
		for _, b := range []plan.Datasource{c.env.Datasources.Metrics, c.env.Datasources.Logs, c.env.Datasources.Traces} {
			d, ok := byUID[b.UID]
			switch {
			case !ok:
				c.finding(diag.Error, b.Pos, "DATASOURCE_NOT_PROVISIONED", "environment %s binds %s datasource %s, which its dashboards name, but this file does not provision it", c.env.Name, b.Type, b.UID)
			case d.Type != b.Type:
				c.finding(diag.Error, b.Pos, "DATASOURCE_NOT_PROVISIONED", "environment %s binds %s as its %s datasource, but this file provisions it as %s", c.env.Name, b.UID, b.Type, d.Type)
			}
		}
	}
	link := func(from, what, uid string, want ...string) {
		d, ok := byUID[uid]
		switch {
		case uid == "":
			c.finding(diag.Error, diag.Pos{}, "CORRELATION_UNBOUND", "%s: %s names no datasource uid", from, what)
		case !ok:
			c.finding(diag.Error, diag.Pos{}, "CORRELATION_UNBOUND", "%s: %s links to %s, which is not provisioned", from, what, uid)
		case !slices.Contains(want, d.Type):
			c.finding(diag.Error, diag.Pos{}, "CORRELATION_UNBOUND", "%s: %s links to %s, a %s datasource; want %s", from, what, uid, d.Type, strings.Join(want, " or "))
		}
	}
	for _, d := range f.Datasources {
		from := "datasource " + d.UID
		j := d.JSONData
		exemplarTraceID := false
		for _, e := range j.ExemplarTraceIDDestinations {
			if e.DatasourceUID != "" {
				link(from, "exemplar destination "+e.Name, e.DatasourceUID, tracingTypes...)
			}
			exemplarTraceID = exemplarTraceID || e.Name == "traceID"
		}
		labelTraceID := false
		for _, df := range j.DerivedFields {
			if df.DatasourceUID != "" {
				link(from, "derived field "+df.Name, df.DatasourceUID, tracingTypes...)
			}
			labelTraceID = labelTraceID || df.MatcherType == "label" && regexpMatches(df.MatcherRegex, "trace_id")
		}
		switch d.Type {
		case "prometheus":
			if !exemplarTraceID {
				c.finding(diag.Warning, diag.Pos{}, "CORRELATION_TRACE_ID", "%s: no exemplar destination for traceID, the label Tempo's metrics-generator puts on exemplars", from)
			}
		case "loki":
			if !labelTraceID {
				c.finding(diag.Warning, diag.Pos{}, "CORRELATION_TRACE_ID", "%s: no derived field reads trace_id with matcherType label; OTLP logs carry it in structured metadata, which a regex never sees", from)
			}
		}
		if t := j.TracesToLogsV2; t != nil {
			link(from, "tracesToLogsV2", t.DatasourceUID, "loki")
			for _, tag := range t.Tags {
				label := cmp.Or(tag.Value, tag.Key)
				if !slices.Contains(c.std.StreamLabels, label) {
					c.finding(diag.Error, diag.Pos{}, "STREAM_LABEL_NOT_ALLOWED", "%s: tracesToLogsV2 maps %s to %s, which is not a stream label; the taxonomy allows %s", from, tag.Key, label, strings.Join(c.std.StreamLabels, ", "))
				}
			}
			if t.CustomQuery {
				c.traceToLogsQuery(from, t.Query)
			}
		}
		if t := j.TracesToMetrics; t != nil {
			link(from, "tracesToMetrics", t.DatasourceUID, "prometheus")
		}
		if t := j.ServiceMap; t != nil {
			link(from, "serviceMap", t.DatasourceUID, "prometheus")
		}
	}
}

// traceToLogsQuery checks Tempo's custom trace-to-logs query once Grafana's
// expansion has turned $$ into $ and substituted its variables.
func (c *dsCheck) traceToLogsQuery(from, query string) {
	q := strings.ReplaceAll(query, "$$", "$")
	q = strings.ReplaceAll(q, "${__tags}", `env="x"`)
	syn, err := scanQuery(q)
	if err != nil || len(syn.selectors) == 0 {
		c.finding(diag.Error, diag.Pos{}, "RAW_STREAM_IN_STANDARD_DASHBOARD", "%s: the trace-to-logs query %q has no readable stream selector, so it cannot be shown to read only the redacted stream", from, query)
		return
	}
	for _, sel := range syn.selectors {
		if msg := redactedOnly(sel); msg != "" {
			c.finding(diag.Error, diag.Pos{}, "RAW_STREAM_IN_STANDARD_DASHBOARD", "%s: the trace-to-logs query %s; trace links may read only the redacted stream", from, msg)
		}
	}
}

// grafanaVariable finds an environment expansion of one of Grafana's own
// variables ($__x or ${__x...}) that is not escaped as $$.
var grafanaVariable = regexp.MustCompile(`\$\$|\$\{__[^}]*\}|\$__[A-Za-z0-9_.]*`)

func (c *dsCheck) escapes(root *yaml.Node) {
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			for _, m := range grafanaVariable.FindAllString(n.Value, -1) {
				if m != "$$" {
					c.finding(diag.Error, diag.Pos{}, "PROVISIONING_UNESCAPED", "line %d: %s is Grafana's own variable, but Grafana's environment expansion replaces it with nothing; write $%s", n.Line, m, m)
				}
			}
		}
		for _, k := range n.Content {
			walk(k)
		}
	}
	walk(root)
}

func regexpMatches(pattern, s string) bool {
	re, err := regexp.Compile("^(?:" + pattern + ")$")
	return err == nil && re.MatchString(s)
}
