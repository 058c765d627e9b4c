// Package datasources renders Grafana's datasource provisioning for every
// environment: the metrics (Prometheus or Mimir), logs (Loki) and traces
// (Tempo) datasources under the uids the environment binds, which are the
// uids its dashboards name, and the correlations between them:
//
//   - metric exemplar → trace: exemplarTraceIdDestinations for the exemplar
//     labels traceID (Tempo's metrics-generator) and trace_id (OpenTelemetry
//     SDKs and collectors);
//   - log line → trace: a Loki derived field on the trace_id structured
//     metadata of OTLP logs (matcherType label; a regex never sees it), and
//     a regex variant for trace ids written in the line itself;
//   - trace → logs: Tempo's tracesToLogsV2 with a custom query over the
//     workload's redacted stream, mapping the span's resource attributes to
//     the stream labels and filtering on the trace_id structured metadata;
//   - trace → metrics, service graph and node graph from the Tempo
//     metrics-generator's series in the metrics datasource.
//
// Output: <env>/grafana/provisioning/datasources/aiobs.yaml.
//
// Grafana expands $VAR and ${VAR} in provisioning files. The datasource
// URLs are such references, AIOBS_<ENV>_METRICS_URL, AIOBS_<ENV>_LOGS_URL
// and AIOBS_<ENV>_TRACES_URL (the environment's name uppercased, dashes as
// underscores), set in the environment of the Grafana that loads the file,
// since endpoints differ per installation and do not belong in decisions.
// Every dollar sign Grafana itself must see, as in ${__value.raw}, is
// written $$.
//
// It reads the plan only and returns artifacts; it never touches the file
// system.
package datasources

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/encode"
	"github.com/aiobs/aiobs/render/write"
)

// Path is where an environment's datasource provisioning file goes.
func Path(env string) string { return env + "/grafana/provisioning/datasources/aiobs.yaml" }

// URLVariable names the environment variable Grafana reads a datasource's
// URL from; signal is METRICS, LOGS or TRACES.
func URLVariable(env, signal string) string {
	return "AIOBS_" + strings.ToUpper(strings.ReplaceAll(env, "-", "_")) + "_" + signal + "_URL"
}

// The query a Tempo trace-to-logs link runs: the span's tags become stream
// matchers, pinned to the redacted stream, and the trace id is matched in
// structured metadata, where OTLP ingestion puts it. Grafana's own default
// is a line filter, which misses it.
const traceToLogsQuery = `{$${__tags}, ` + plan.StreamLabel + `="` + plan.RedactedStream + `"} | trace_id="$${__trace.traceId}"`

// traceIDInLine finds a trace id written in the log line itself (logfmt or
// JSON); it runs in the browser as a JavaScript regex with one capture
// group.
const traceIDInLine = `[Tt]race_?[Ii][Dd]["']?\s*[=:]\s*["']?([0-9a-fA-F]{16,32})\b`

type file struct {
	APIVersion  int          `yaml:"apiVersion"`
	Datasources []datasource `yaml:"datasources"`
}

type datasource struct {
	Name           string            `yaml:"name"`
	Type           string            `yaml:"type"`
	UID            string            `yaml:"uid"`
	Access         string            `yaml:"access"`
	URL            string            `yaml:"url"`
	Editable       bool              `yaml:"editable"`
	JSONData       any               `yaml:"jsonData"`
	SecureJSONData map[string]string `yaml:"secureJsonData,omitempty"`
}

type prometheusJSON struct {
	HTTPMethod                  string         `yaml:"httpMethod"`
	ExemplarTraceIDDestinations []exemplarDest `yaml:"exemplarTraceIdDestinations"`
}

type exemplarDest struct {
	Name            string `yaml:"name"`
	DatasourceUID   string `yaml:"datasourceUid"`
	URLDisplayLabel string `yaml:"urlDisplayLabel"`
}

type lokiJSON struct {
	MaxLines        int            `yaml:"maxLines"`
	HTTPHeaderName1 string         `yaml:"httpHeaderName1"`
	DerivedFields   []derivedField `yaml:"derivedFields"`
}

type derivedField struct {
	Name            string `yaml:"name"`
	MatcherType     string `yaml:"matcherType"`
	MatcherRegex    string `yaml:"matcherRegex"`
	DatasourceUID   string `yaml:"datasourceUid"`
	URL             string `yaml:"url"`
	URLDisplayLabel string `yaml:"urlDisplayLabel"`
}

type tempoJSON struct {
	NodeGraph       enabled         `yaml:"nodeGraph"`
	ServiceMap      datasourceRef   `yaml:"serviceMap"`
	TracesToLogsV2  tracesToLogs    `yaml:"tracesToLogsV2"`
	TracesToMetrics tracesToMetrics `yaml:"tracesToMetrics"`
}

type enabled struct {
	Enabled bool `yaml:"enabled"`
}

type datasourceRef struct {
	DatasourceUID string `yaml:"datasourceUid"`
}

type tracesToLogs struct {
	DatasourceUID      string `yaml:"datasourceUid"`
	SpanStartTimeShift string `yaml:"spanStartTimeShift"`
	SpanEndTimeShift   string `yaml:"spanEndTimeShift"`
	Tags               []tag  `yaml:"tags"`
	FilterByTraceID    bool   `yaml:"filterByTraceID"`
	FilterBySpanID     bool   `yaml:"filterBySpanID"`
	CustomQuery        bool   `yaml:"customQuery"`
	Query              string `yaml:"query"`
}

type tracesToMetrics struct {
	DatasourceUID      string        `yaml:"datasourceUid"`
	SpanStartTimeShift string        `yaml:"spanStartTimeShift"`
	SpanEndTimeShift   string        `yaml:"spanEndTimeShift"`
	Tags               []tag         `yaml:"tags"`
	Queries            []metricQuery `yaml:"queries"`
}

// tag maps a span attribute (key) to a label name (value).
type tag struct {
	Key   string `yaml:"key"`
	Value string `yaml:"value"`
}

type metricQuery struct {
	Name  string `yaml:"name"`
	Query string `yaml:"query"`
}

// Render returns every environment's datasource provisioning file, sorted
// by path.
func Render(p *plan.Plan) ([]write.File, error) {
	var out []write.File
	for _, env := range p.Environments {
		files, err := EnvironmentFiles(env)
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
	}
	slices.SortFunc(out, func(a, b write.File) int { return cmp.Compare(a.Path, b.Path) })
	return out, nil
}

// EnvironmentFiles is the datasource provisioning file of one environment.
func EnvironmentFiles(env *plan.Environment) ([]write.File, error) {
	f, err := provisioning(env)
	if err != nil {
		return nil, fmt.Errorf("datasources of %s: %w", env.Name, err)
	}
	return []write.File{f}, nil
}

func provisioning(env *plan.Environment) (write.File, error) {
	ds := env.Datasources
	metrics, logs, traces := ds.Metrics.UID, ds.Logs.UID, ds.Traces.UID
	f := file{APIVersion: 1, Datasources: []datasource{
		{
			Name: metrics, Type: ds.Metrics.Type, UID: metrics, Access: "proxy",
			URL: "${" + URLVariable(env.Name, "METRICS") + "}",
			JSONData: prometheusJSON{
				HTTPMethod: "POST",
				ExemplarTraceIDDestinations: []exemplarDest{
					{Name: "traceID", DatasourceUID: traces, URLDisplayLabel: "View trace"},
					{Name: "trace_id", DatasourceUID: traces, URLDisplayLabel: "View trace"},
				},
			},
		},
		{
			Name: logs, Type: ds.Logs.Type, UID: logs, Access: "proxy",
			URL: "${" + URLVariable(env.Name, "LOGS") + "}",
			JSONData: lokiJSON{
				MaxLines: 1000,
				// The tenant whose ruler runs the environment's log rules, so
				// that panels show what the rules evaluate.
				HTTPHeaderName1: "X-Scope-OrgID",
				DerivedFields: []derivedField{
					{Name: "trace_id", MatcherType: "label", MatcherRegex: "trace_id", DatasourceUID: traces,
						URL: "$${__value.raw}", URLDisplayLabel: "View trace"},
					{Name: "trace id in line", MatcherType: "regex", MatcherRegex: traceIDInLine, DatasourceUID: traces,
						URL: "$${__value.raw}", URLDisplayLabel: "View trace"},
				},
			},
			SecureJSONData: map[string]string{"httpHeaderValue1": env.Loki.Tenant},
		},
		{
			Name: traces, Type: ds.Traces.Type, UID: traces, Access: "proxy",
			URL: "${" + URLVariable(env.Name, "TRACES") + "}",
			JSONData: tempoJSON{
				NodeGraph:  enabled{Enabled: true},
				ServiceMap: datasourceRef{DatasourceUID: metrics},
				TracesToLogsV2: tracesToLogs{
					DatasourceUID: logs, SpanStartTimeShift: "-1m", SpanEndTimeShift: "1m",
					Tags: []tag{
						{Key: plan.EnvResourceAttribute, Value: plan.EnvStreamLabel},
						{Key: plan.TeamResourceAttribute, Value: plan.TeamStreamLabel},
						{Key: plan.WorkloadResourceAttribute, Value: plan.WorkloadStreamLabel},
					},
					FilterByTraceID: true, CustomQuery: true, Query: traceToLogsQuery,
				},
				TracesToMetrics: tracesToMetrics{
					DatasourceUID: metrics, SpanStartTimeShift: "-2m", SpanEndTimeShift: "2m",
					// The metrics-generator names the service label service.
					Tags: []tag{{Key: "service.name", Value: "service"}},
					Queries: []metricQuery{
						{Name: "Request rate", Query: "sum(rate(traces_spanmetrics_calls_total{$$__tags}[5m]))"},
						{Name: "Error rate", Query: `sum(rate(traces_spanmetrics_calls_total{$$__tags, status_code="STATUS_CODE_ERROR"}[5m]))`},
						{Name: "p95 latency", Query: "histogram_quantile(0.95, sum by (le) (rate(traces_spanmetrics_latency_bucket{$$__tags}[5m])))"},
					},
				},
			},
		},
	}}
	data, err := encode.YAML(f)
	if err != nil {
		return write.File{}, err
	}
	w := len(URLVariable(env.Name, "METRICS"))
	header := fmt.Sprintf("# Grafana datasources of environment %s, written by aiobs; do not edit.\n"+
		"# Grafana reads the URLs from its environment at start-up:\n"+
		"#   %-*s  Prometheus or Mimir query URL\n"+
		"#   %-*s  Loki URL\n"+
		"#   %-*s  Tempo URL\n"+
		"# Grafana expands $VAR in this file; $$ is a literal dollar sign.\n",
		env.Name, w, URLVariable(env.Name, "METRICS"), w, URLVariable(env.Name, "LOGS"), w, URLVariable(env.Name, "TRACES"))
	return write.File{Path: Path(env.Name), Bytes: append([]byte(header), data...)}, nil
}
