package validate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/render/write"
)

// alertFile is a Loki ruler file with one alert whose parts a case
// replaces.
func alertFile(replace ...string) string {
	f := `groups:
  - name: a--w--alerts-pii
    interval: 1m
    rules:
      - alert: PiiEmailInLogs
        expr: sum(count_over_time({env="prod", stream="redacted", team="a", workload="w"} |= "@" |~ ` + "`[a-z]+@[a-z]+`" + ` [5m])) > 0
        labels:
          class: pii
          env: prod
          severity: page
          team: a
          workload: w
        annotations:
          dashboard_url: https://grafana.example.com/d/aiobs--a--w
          description: '{{ $value }} matching log lines in the last 5m.'
          runbook_url: https://runbooks.example.com/aiobs/PiiEmailInLogs
          summary: 'a/w (prod): e-mail addresses in the redacted log stream'
`
	return strings.NewReplacer(replace...).Replace(f)
}

func TestLokiRuleFindings(t *testing.T) {
	const path = "prod/loki/rules/ai-prod/a--w.yaml"
	const at = "teams.cue:3:2: prod/loki/rules/ai-prod/a--w.yaml: "
	for _, tc := range []struct {
		name, path, body, want string
	}{
		{"a well-formed alert passes", path, alertFile(), ""},
		{"a key rulefmt does not know rejects the file",
			path, alertFile("        labels:", "        runbook: x\n        labels:"),
			at + "the ruler would reject the file, and with it every tenant's rules: yaml: unmarshal errors: line 7: field runbook not found in type validate.lokiRule [LOKI_RULES_FORMAT]\n"},
		{"a rule file under another tenant is refused",
			"prod/loki/rules/fake/a--w.yaml", alertFile(),
			"teams.cue:3:2: prod/loki/rules/fake/a--w.yaml: the rules sit under tenant fake, but environment prod's log rules run as tenant ai-prod [LOKI_RULES_TENANT]\n"},
		{"a hidden file is refused because the ruler parses it too",
			"prod/loki/rules/ai-prod/.a--w.yaml.swp", alertFile(),
			"prod/loki/rules/ai-prod/.a--w.yaml.swp: the ruler also parses hidden files; name the file without a leading dot [LOKI_RULES_PATH]\n"},
		{"a log query as a rule is refused",
			path, alertFile("expr: sum(count_over_time(", "expr: '", " [5m])) > 0", "'"),
			at + "group a--w--alerts-pii rule PiiEmailInLogs is a log query; the ruler loads it but fails every evaluation, since a rule needs a metric query (count_over_time, rate, ...) [LOGQL_NOT_METRIC]\n"},
		{"a line filter that is not RE2 is refused",
			path, alertFile("`[a-z]+@[a-z]+`", "`(?=x)`"),
			at + "group a--w--alerts-pii rule PiiEmailInLogs: line filter regex \"(?=x)\" is not RE2, so every evaluation fails: error parsing regexp: invalid or unsupported Perl syntax: `(?=` [LOGQL_REGEX]\n"},
		{"a selector that can match the empty value is refused",
			path, alertFile(`{env="prod", stream="redacted", team="a", workload="w"}`, `{env=~".*"}`),
			at + "group a--w--alerts-pii rule PiiEmailInLogs: stream selector {env=~\".*\"} has no matcher that rules out the empty value, and Loki refuses such a query [LOGQL_EMPTY_MATCHER]\n"},
		{"an alert without its labels and annotations is refused",
			path, alertFile("          class: pii\n", "", "          runbook_url: https://runbooks.example.com/aiobs/PiiEmailInLogs\n", ""),
			at + "group a--w--alerts-pii rule PiiEmailInLogs has no runbook_url annotation; every aiobs alert carries dashboard_url, description, runbook_url, summary [ALERT_ANNOTATIONS]\n" +
				at + "group a--w--alerts-pii rule PiiEmailInLogs has no class label; every aiobs alert carries class, env, severity, team, workload [ALERT_LABELS]\n"},
		{"a severity other than page or notify is refused",
			path, alertFile("severity: page", "severity: critical"),
			at + "group a--w--alerts-pii rule PiiEmailInLogs has severity \"critical\"; want page or notify [ALERT_LABELS]\n"},
		{"a broken annotation template is refused",
			path, alertFile("{{ $value }}", "{{ end }}"),
			at + "group a--w--alerts-pii rule PiiEmailInLogs: annotation description is not a valid template, and the ruler rejects the file: template: description:1: unexpected {{end}} [ALERT_TEMPLATE]\n"},
		{"a PII alert that groups or extracts is refused",
			path, alertFile("sum(count_over_time(", "sum by (email) (count_over_time(", "[5m]", "| regexp `(?P<email>\\S+@\\S+)` [5m]"),
			at + "group a--w--alerts-pii rule PiiEmailInLogs groups by email; a PII alert must carry no label that could hold the leaked value [PII_ALERT_EXTRACTS]\n" +
				at + "group a--w--alerts-pii rule PiiEmailInLogs uses | regexp; a PII alert must not copy line content into labels or lines [PII_ALERT_EXTRACTS]\n"},
		{"a recording rule with annotations and an unprefixed name is refused",
			path, "groups:\n  - name: r\n    rules:\n      - record: cuda_oom_count\n        expr: sum(count_over_time({env=\"prod\"} [5m]))\n        annotations: {summary: x}\n",
			at + "group r rule cuda_oom_count: a recording rule takes no for, keep_firing_for or annotations [LOKI_RULES_FORMAT]\n" +
				at + "group r rule cuda_oom_count: record names take the form level:metric:operation in letters, digits and underscores [LOKI_RULE_NAME]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := printFindings(t, checkLokiRules(newArtifacts(taxonomyPlan(), []write.File{{Path: tc.path, Bytes: []byte(tc.body)}})))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
