// Package lokirules renders the Loki artifacts of a plan: one ruler file of
// log alerts and log-derived recording rules per workload and environment,
// compiled from the typed log rules of the standard and the organisation
// (plan.Logs), and the retention override of an environment's opt-in raw
// stream. Nobody writes LogQL: every query is assembled here from typed
// parts, with each literal quoted by plan.Quote and each RE2 pattern (already
// compiled by compile) written in back-quotes where it has none itself.
//
// It reads the plan only and returns artifacts; it never touches the file
// system.
//
// # Layout and loading
//
//	<env>/loki/rules/<tenant>/<team>--<workload>.yaml  ruler rules
//	<env>/loki/runtime/aiobs-raw.yaml                   raw-stream retention
//
// The ruler's local storage (ruler.storage.type: local) reads
// <directory>/<tenant>/<file>: copy or mount <env>/loki/rules/ as the
// ruler's directory (on Kubernetes mount one ConfigMap per tenant at
// <directory>/<tenant>, never at <directory>). A file holds only groups:,
// with no key rulefmt does not know, because one unknown key makes the ruler
// reject every tenant's rules; its namespace is the file name with its
// extension. lokitool (Loki ≥ 3.1; cortextool --backend=loki before) takes
// the same files and names the namespace after the file without extension,
// <team>--<workload>, so a team's rules are selected by their prefix:
//
//	lokitool rules sync --address=$LOKI --id=<tenant> \
//	  --rule-dirs=out/<env>/loki/rules/<tenant> --namespaces-regex='^<team>--'
//
// Group names carry the team and workload as well, so the files of one team
// could also be merged into one namespace per team without a clash.
//
// Recording rules reach the metrics backend through the ruler's
// remote_write. Loki sends them with X-Scope-OrgID set to the rule's tenant
// (add_org_id_header); that must be the Mimir tenant the environment's
// metrics datasource reads, or the ruler must send a fixed tenant.
//
// # Stream contract
//
// Every workload's logs reach Loki as streams labelled with the taxonomy's
// stream labels only: env, team and workload (from the OpenTelemetry
// resource attributes deployment.environment.name, service.namespace and
// service.name) and stream. Request-scoped identifiers (trace_id, span_id,
// request_id, user and session ids) are structured metadata, never labels.
// stream="redacted" holds every line after the redaction middleware; it is
// the only stream rules and the standard dashboard read. An environment that
// opts in (loki: raw: {tenant, retentionHours}) also keeps the unredacted
// line as stream="raw" in its own tenant, for at most the standard's bound
// (72 hours); only a separate, restricted dashboard may read it.
//
// # Redaction contract
//
// The redaction middleware (a logging filter in the service or a processor
// in the collector) sees every line before it leaves the node and:
//
//   - replaces each personal or secret value with a token
//     <redacted:TYPE:sha256:HASH>, where TYPE is one of email, card, phone,
//     national_id, iban, api_key, bearer_token, private_key, and HASH is the
//     first 8 lowercase hex digits of HMAC-SHA-256 over the normalised value
//     with a per-environment secret key. The key matters: an unkeyed hash of
//     a phone or card number is reversed by enumerating the numbers. The same
//     value gives the same token within an environment, so lines still
//     correlate (one user's errors), and the token itself never matches a
//     detector below;
//   - normalises before hashing: e-mail trimmed and lowercased; card, phone
//     and IBAN numbers reduced to digits and letters, uppercased; tokens and
//     keys hashed whole (a bearer token without its "Bearer " prefix);
//   - hashes request-scoped identifiers of people (user, session,
//     conversation ids) the same way into structured metadata (user_hash),
//     and keeps trace_id, span_id and request_id as they are: they name
//     requests, not people;
//   - never writes prompt or completion text to the redacted stream; it logs
//     their lengths and token counts instead;
//   - fails closed: a line it cannot process is replaced by
//     <redacted:unprocessable:sha256:HASH> of the whole line, never passed
//     through.
//
// Example: user=<redacted:email:sha256:ab12cd34> card=<redacted:card:sha256:9f8e7d6c>
//
// The PII alerts scan the redacted stream for what the middleware must have
// removed (e-mail addresses, payment card, phone, national id and IBAN
// numbers, API keys, bearer tokens and private keys) and for the synthetic
// canary value (pii-canary), which a scheduled job sends through the real
// path. They page even in environments that do not page: leaked data is
// stored and replicated whatever the environment, and the same middleware
// ships to production next. They never group by a field and never extract
// a value, so no alert carries the leaked data.
//
// # Log event contract
//
// The standard's recording rules read JSON lines with an event field:
// {"event":"retry","reason":"..."}, {"event":"guardrail_triggered",
// "guardrail":"...","action":"..."} and {"event":"request_completed",
// "usage":{"completion_tokens":N}}.
package lokirules

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/internal/parallel"
	"github.com/aiobs/aiobs/render/encode"
	"github.com/aiobs/aiobs/render/write"
)

// Interval is how often the ruler evaluates every group.
const Interval = "1m"

// ruleFile is a Loki ruler file: rulefmt's groups and nothing else.
type ruleFile struct {
	Groups []group `yaml:"groups"`
}

type group struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval"`
	Rules    []rule `yaml:"rules"`
}

type rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// Render returns the Loki artifacts of the plan, sorted by path: the sum
// of TargetFiles and EnvironmentFiles, which render.Render calls one by one.
func Render(p *plan.Plan) ([]write.File, error) {
	type result struct {
		files []write.File
		err   error
	}
	results := parallel.Map(len(p.Targets), func(i int) result {
		files, err := TargetFiles(p.Targets[i], &p.Standard)
		return result{files, err}
	})
	var out []write.File
	for _, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		out = append(out, r.files...)
	}
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

// TargetFiles is one target's ruler file, or nothing when no rule applies
// to it. It reads the target and the standard only.
func TargetFiles(t *plan.Target, std *plan.Standard) ([]write.File, error) {
	f, ok, err := rules(std, t)
	if err != nil {
		return nil, fmt.Errorf("%s/%s in %s: %w", t.Team.Name, t.Workload.Name, t.Env.Name, err)
	}
	if !ok {
		return nil, nil
	}
	return []write.File{f}, nil
}

// EnvironmentFiles is the retention file of the environment's raw
// stream, when it has one.
func EnvironmentFiles(env *plan.Environment) ([]write.File, error) {
	if env.Loki.Raw == nil {
		return nil, nil
	}
	f, err := rawRetention(env)
	if err != nil {
		return nil, fmt.Errorf("raw stream of %s: %w", env.Name, err)
	}
	return []write.File{f}, nil
}

// RulesPath is where a target's ruler file goes.
func RulesPath(t *plan.Target) string {
	return t.Env.Name + "/loki/rules/" + t.Env.Loki.Tenant + "/" + t.Workload.ID() + ".yaml"
}

// rules renders one target's ruler file; ok is false when no rule applies.
func rules(std *plan.Standard, t *plan.Target) (write.File, bool, error) {
	id := t.Workload.ID()
	byClass := map[string][]rule{}
	for _, a := range std.Logs.Alerts {
		if a.AppliesTo(t) {
			byClass[a.Class] = append(byClass[a.Class], alertRule(std, t, a))
		}
	}
	var f ruleFile
	for _, class := range slices.Sorted(maps.Keys(byClass)) {
		f.Groups = append(f.Groups, group{Name: id + "--alerts-" + class, Interval: Interval, Rules: byClass[class]})
	}
	var records []rule
	for _, m := range std.Logs.Metrics {
		records = append(records, recordRules(std, t, m)...)
	}
	if len(records) > 0 {
		f.Groups = append(f.Groups, group{Name: id + "--records", Interval: Interval, Rules: records})
	}
	if len(f.Groups) == 0 {
		return write.File{}, false, nil
	}
	data, err := encode.YAML(f)
	if err != nil {
		return write.File{}, false, err
	}
	header := fmt.Sprintf("# Loki ruler rules written by aiobs for %s/%s in %s (tenant %s); do not edit.\n"+
		"# Every query reads the workload's redacted stream %s.\n",
		t.Team.Name, t.Workload.Name, t.Env.Name, t.Env.Loki.Tenant, t.RedactedStreamSelector())
	return write.File{Path: RulesPath(t), Bytes: append([]byte(header), data...)}, true, nil
}

func alertRule(std *plan.Standard, t *plan.Target, a *plan.LogAlert) rule {
	q := &a.Query
	r := rule{
		Alert: a.Name,
		Expr:  Expr(t, q, 0) + " " + a.Op + " " + a.Threshold,
		Labels: map[string]string{
			"team":     t.Team.Name,
			"workload": t.Workload.Name,
			"env":      t.Env.Name,
			"severity": a.SeverityIn(t.Env),
			"class":    a.Class,
		},
	}
	if a.For != "0m" && a.For != "0s" {
		r.For = a.For
	}
	where := t.Team.Name + "/" + t.Workload.Name
	summary := where + " (" + t.Env.Name + "): " + a.Title
	if len(q.By) > 0 {
		var parts []string
		for _, l := range q.By {
			parts = append(parts, l+"={{ $labels."+l+" }}")
		}
		summary += " (" + strings.Join(parts, ", ") + ")"
	}
	cond := "fires when " + a.Op + " " + a.Threshold
	if r.For != "" {
		cond += " for " + a.For
	}
	runbook := a.RunbookURL
	if runbook == "" {
		runbook = std.RunbookBaseURL + "/" + a.Name
	}
	r.Annotations = map[string]string{
		"summary":       summary,
		"description":   valuePhrase(q) + " (" + cond + ") in the redacted log stream of " + where + " in " + t.Env.Name + ". " + a.Description,
		"runbook_url":   runbook,
		"dashboard_url": t.Env.DashboardURL(t.Workload.DashboardUID()),
	}
	return r
}

// recordRules renders a log metric: one rule, or one per quantile labelled
// quantile. Each series carries the contract's team, workload and model
// labels and env, so that dashboards and alerts find it in the metrics
// backend.
func recordRules(std *plan.Standard, t *plan.Target, m *plan.LogMetric) []rule {
	c := std.Contract
	labels := func() map[string]string {
		return map[string]string{
			cmp.Or(c.TeamLabel, "team"):         t.Team.Name,
			cmp.Or(c.WorkloadLabel, "workload"): t.Workload.Name,
			cmp.Or(c.ModelLabel, "model"):       t.Workload.Model,
			"env":                               t.Env.Name,
		}
	}
	if m.Query.Aggregate != "quantile" {
		return []rule{{Record: m.Record, Expr: Expr(t, &m.Query, 0), Labels: labels()}}
	}
	var out []rule
	for i, q := range m.Query.Quantiles {
		l := labels()
		l["quantile"] = q
		out = append(out, rule{Record: m.Record, Expr: Expr(t, &m.Query, i), Labels: l})
	}
	return out
}

// Expr compiles a typed log query for a target into LogQL. quantile picks
// the entry of q.Quantiles for aggregate quantile.
//
// The shape is fixed: the redacted stream selector, then line filters
// (contains, containsAny, matches, excludes, notMatches: literal filters
// first, since they are cheap), the parser with its error filter, field
// filters, unwrap with its error filter, the range, and the aggregation.
// Line counts are summed by the grouping; unwrapped aggregations group
// inside the range function, so that per-line labels a parser adds never
// become series.
func Expr(t *plan.Target, q *plan.LogQuery, quantile int) string {
	ms := t.StreamMatchers(plan.RedactedStream)
	for _, l := range q.Streams {
		ms = append(ms, plan.Matcher{Name: l.Name, Op: "=", Value: l.Value})
	}
	slices.SortStableFunc(ms, func(a, b plan.Matcher) int { return cmp.Compare(a.Name, b.Name) })
	var b strings.Builder
	b.WriteString(plan.FormatMatchers(ms))
	for _, s := range q.Contains {
		b.WriteString(" |= " + plan.Quote(s))
	}
	if len(q.ContainsAny) > 0 {
		var alts []string
		for _, s := range q.ContainsAny {
			alts = append(alts, plan.Quote(s))
		}
		b.WriteString(" |= " + strings.Join(alts, " or "))
	}
	for _, s := range q.Matches {
		b.WriteString(" |~ " + Pattern(s))
	}
	for _, s := range q.Excludes {
		b.WriteString(" != " + plan.Quote(s))
	}
	for _, s := range q.NotMatches {
		b.WriteString(" !~ " + Pattern(s))
	}
	if q.Parser != "" {
		// Lines the parser cannot read carry __error__; dropping them keeps
		// them out of counts and keeps the query from failing on unwrap.
		b.WriteString(" | " + q.Parser + ` | __error__=""`)
	}
	for _, f := range q.Where {
		b.WriteString(" | " + f.Field + f.Op)
		switch {
		case f.Number:
			b.WriteString(f.Value)
		case f.Op == "=~" || f.Op == "!~":
			b.WriteString(Pattern(f.Value))
		default:
			b.WriteString(plan.Quote(f.Value))
		}
	}
	if q.Unwrap != "" {
		b.WriteString(" | unwrap " + q.Unwrap + ` | __error__=""`)
	}
	rng := b.String() + " [" + q.Window + "]"
	by := "(" + strings.Join(q.By, ", ") + ")"
	switch q.Aggregate {
	case "rate":
		return sumBy(q.By) + "(rate(" + rng + "))"
	case "quantile":
		return "quantile_over_time(" + q.Quantiles[quantile] + ", " + rng + ") by " + by
	case "avg", "max", "min":
		return q.Aggregate + "_over_time(" + rng + ") by " + by
	}
	return sumBy(q.By) + "(count_over_time(" + rng + "))"
}

func sumBy(by []string) string {
	if len(by) == 0 {
		return "sum"
	}
	return "sum by (" + strings.Join(by, ", ") + ") "
}

// Pattern writes an RE2 pattern as a LogQL string literal: back-quoted, so
// that its backslashes need no escaping, unless it holds a back-quote
// itself; then double-quoted with Go escapes, which LogQL reads alike.
func Pattern(re string) string {
	if !rawSafe(re) {
		return plan.Quote(re)
	}
	return "`" + re + "`"
}

// rawSafe reports whether a back-quoted literal can carry s as it is and
// still read plainly: no back-quote, valid UTF-8, printable characters only.
func rawSafe(s string) bool {
	for _, r := range s {
		if r == '`' || r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			return false
		}
	}
	return true
}

// valuePhrase says what the alert's $value is, in words.
func valuePhrase(q *plan.LogQuery) string {
	switch q.Aggregate {
	case "rate":
		return "{{ $value | humanize }} matching log lines per second over the last " + q.Window
	case "quantile":
		return "the p" + percentile(q.Quantiles[0]) + " of " + q.Unwrap + " over the last " + q.Window + " is {{ $value | humanize }}"
	case "avg":
		return "the average of " + q.Unwrap + " over the last " + q.Window + " is {{ $value | humanize }}"
	case "max":
		return "the maximum of " + q.Unwrap + " over the last " + q.Window + " is {{ $value | humanize }}"
	case "min":
		return "the minimum of " + q.Unwrap + " over the last " + q.Window + " is {{ $value | humanize }}"
	}
	return "{{ $value }} matching log lines in the last " + q.Window
}

// percentile turns a quantile's decimal text into a percentile: 0.95 → 95,
// 0.999 → 99.9.
func percentile(q string) string {
	f, err := strconv.ParseFloat(q, 64)
	if err != nil {
		return q
	}
	return strconv.FormatFloat(f*100, 'f', -1, 64)
}

// runtimeConfig is the part of Loki's runtime configuration aiobs owns.
type runtimeConfig struct {
	Overrides map[string]tenantLimits `yaml:"overrides"`
}

type tenantLimits struct {
	RetentionPeriod string `yaml:"retention_period"`
}

// rawRetention bounds the raw stream's retention through Loki's per-tenant
// overrides, so that the decided hours are enforced and not only written
// down.
func rawRetention(env *plan.Environment) (write.File, error) {
	raw := env.Loki.Raw
	data, err := encode.YAML(runtimeConfig{Overrides: map[string]tenantLimits{
		raw.Tenant: {RetentionPeriod: strconv.Itoa(raw.RetentionHours) + "h"},
	}})
	if err != nil {
		return write.File{}, err
	}
	header := fmt.Sprintf("# Loki runtime configuration written by aiobs: the retention of %s's raw\n"+
		"# (unredacted) stream, tenant %s. Add this file to Loki's -runtime-config.file\n"+
		"# list (files merge left to right); retention needs the compactor with\n"+
		"# retention_enabled: true.\n", env.Name, raw.Tenant)
	return write.File{Path: env.Name + "/loki/runtime/aiobs-raw.yaml", Bytes: append([]byte(header), data...)}, nil
}
