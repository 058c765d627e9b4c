package plan

import (
	"strings"

	"github.com/aiobs/aiobs/compile/diag"
)

// The stream contract every workload's logs follow. The log pipeline labels
// each stream with the taxonomy's env, team and workload labels and with
// stream="redacted" once the redaction middleware has replaced personal data
// in it (render/lokirules documents the redaction contract). An environment
// may opt in to a raw stream, stream="raw", kept in a separate Loki tenant
// with a short retention; nothing aiobs renders for the standard dashboard or
// the ruler ever reads it.
const (
	StreamLabel    = "stream"
	RedactedStream = "redacted"
	RawStream      = "raw"

	// Stream label names that identify a target's streams; each must be in
	// Standard.StreamLabels.
	EnvStreamLabel      = "env"
	TeamStreamLabel     = "team"
	WorkloadStreamLabel = "workload"
)

// OpenTelemetry resource attributes that carry the same identity on spans
// and logs: the collector maps them to the env, team and workload stream
// labels, Tempo's trace-to-logs link maps them back, and TraceQL selects a
// workload's spans by them.
const (
	EnvResourceAttribute      = "deployment.environment.name"
	TeamResourceAttribute     = "service.namespace"
	WorkloadResourceAttribute = "service.name"
)

// Logs are the log rules the standard defines and the organisation adds:
// typed queries that render/lokirules compiles into LogQL. Disabled rules
// are not in the plan.
type Logs struct {
	Alerts  []*LogAlert  // sorted by name
	Metrics []*LogMetric // sorted by name
}

// LogQuery is one typed LogQL query over a target's redacted stream. Its
// parts are applied in a fixed order: stream matchers, line filters
// (contains, containsAny, matches, excludes, notMatches), the parser, field
// filters, unwrap, then the aggregation over Window.
type LogQuery struct {
	// Streams are extra stream matchers, every name a taxonomy stream label
	// other than the target's identity labels; sorted by name.
	Streams []Label
	// Contains keeps lines holding every literal (|= "x").
	Contains []string
	// ContainsAny keeps lines holding at least one literal (|= "a" or "b").
	ContainsAny []string
	// Matches keeps lines matching every RE2 pattern (|~).
	Matches []string
	// Excludes drops lines holding any literal (!= "x").
	Excludes []string
	// NotMatches drops lines matching any RE2 pattern (!~).
	NotMatches []string
	// Parser is "json", "logfmt" or "" for none.
	Parser string
	// Where filters parsed fields, in decision order.
	Where []FieldFilter
	// Aggregate is count, rate, quantile, avg, max or min.
	Aggregate string
	// Unwrap is the numeric field quantile, avg, max and min read.
	Unwrap string
	// Quantiles are decimal texts in (0, 1), for Aggregate quantile.
	Quantiles []string
	// By groups the result by parsed fields or stream labels with few
	// values; never by request-scoped ones.
	By []string
	// Window is the range of the aggregation, a Prometheus duration.
	Window string
}

// FieldFilter keeps lines whose parsed field compares true with Value.
type FieldFilter struct {
	Field string
	Op    string // =, !=, =~, !~, >, >=, <, <=
	Value string
	// Number says Value is a number literal rather than a string.
	Number bool
}

// LogAlert is one log alert rule, rendered once per target.
type LogAlert struct {
	Name string // the alert name, e.g. CudaOutOfMemory
	// Class routes the alert (infra, pii, ...); it becomes the class label.
	Class string
	// Severity is "page" or "notify" as decided; SeverityIn applies the
	// environment's paging policy.
	Severity string
	// AlwaysPage keeps a page a page where the environment does not page.
	AlwaysPage bool
	// GPU marks rules over GPU engine logs, which hosted (token-priced)
	// workloads do not have.
	GPU   bool
	Query LogQuery
	// Op and Threshold compare the query's value: e.g. > 0.
	Op, Threshold string
	// For is how long the condition must hold, a Prometheus duration.
	For string
	// Title and Description are plain text without template actions.
	Title, Description string
	// RunbookURL overrides the standard's runbook link when set.
	RunbookURL string
	Pos        diag.Pos `key:"-"`
}

// SeverityIn is the alert's severity in an environment: a page is
// downgraded to notify where the environment does not page, unless the
// alert always pages.
func (a *LogAlert) SeverityIn(e *Environment) string {
	if a.Severity == "page" && !e.Paging && !a.AlwaysPage {
		return "notify"
	}
	return a.Severity
}

// AppliesTo says whether the alert is rendered for a target: GPU rules are
// left out for workloads priced per token, which run on someone else's
// GPUs.
func (a *LogAlert) AppliesTo(t *Target) bool {
	return !a.GPU || t.Workload.Cost.InputPerMTokUSD == ""
}

// LogMetric is one recording rule that turns a log fact into a series in
// the metrics backend, rendered once per target.
type LogMetric struct {
	Name   string // the decision key
	Record string // the series name, level:metric:operation
	Query  LogQuery
	Pos    diag.Pos `key:"-"`
}

// LokiRaw is an environment's opt-in raw stream: unredacted lines kept in
// their own tenant for a bounded time.
type LokiRaw struct {
	Tenant         string
	RetentionHours int
	Pos            diag.Pos `key:"-"`
}

// StreamMatchers selects one of the target's streams (RedactedStream or
// RawStream) by its identity labels, sorted by name.
func (t *Target) StreamMatchers(stream string) []Matcher {
	return []Matcher{
		{Name: EnvStreamLabel, Op: "=", Value: t.Env.Name},
		{Name: StreamLabel, Op: "=", Value: stream},
		{Name: TeamStreamLabel, Op: "=", Value: t.Team.Name},
		{Name: WorkloadStreamLabel, Op: "=", Value: t.Workload.Name},
	}
}

// RedactedStreamSelector is the LogQL stream selector of the target's
// redacted stream, the only stream standard dashboards and rules read:
// {env="prod", stream="redacted", team="assistants", workload="chat"}.
func (t *Target) RedactedStreamSelector() string {
	return FormatMatchers(t.StreamMatchers(RedactedStream))
}

// TraceQLSelector selects the target's spans in its environment's Tempo by
// their resource attributes, with extra conditions joined by &&:
// { resource.service.namespace = "assistants" && resource.service.name = "chat" }.
// The environment is the Tempo datasource itself, so it is not matched.
func (t *Target) TraceQLSelector(conditions ...string) string {
	parts := []string{
		"resource." + TeamResourceAttribute + " = " + Quote(t.Team.Name),
		"resource." + WorkloadResourceAttribute + " = " + Quote(t.Workload.Name),
	}
	parts = append(parts, conditions...)
	return "{ " + strings.Join(parts, " && ") + " }"
}
