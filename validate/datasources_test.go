package validate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/render/datasources"
	"github.com/aiobs/aiobs/render/write"
)

func TestDatasourceFindings(t *testing.T) {
	p := taxonomyPlan()
	p.Environments[0].Datasources.Metrics.Pos = diag.Pos{File: "environments.cue", Line: 2, Column: 15}
	files, err := datasources.Render(p)
	if err != nil || len(files) != 1 {
		t.Fatalf("render: %v, %d files", err, len(files))
	}
	good := string(files[0].Bytes)
	const at = "prod/grafana/provisioning/datasources/aiobs.yaml: "
	for _, tc := range []struct {
		name    string
		replace []string
		want    string
	}{
		{"the rendered provisioning passes", nil, ""},
		{"an unescaped Grafana variable is refused",
			[]string{"url: $${__value.raw}", "url: ${__value.raw}"},
			at + "line 38: ${__value.raw} is Grafana's own variable, but Grafana's environment expansion replaces it with nothing; write $${__value.raw} [PROVISIONING_UNESCAPED]\n"},
		{"a bound uid that is not provisioned is refused at the binding",
			[]string{"name: mimir\n    type: prometheus\n    uid: mimir", "name: mimir\n    type: prometheus\n    uid: mimir-old"},
			at + "datasource tempo: serviceMap links to mimir, which is not provisioned [CORRELATION_UNBOUND]\n" +
				at + "datasource tempo: tracesToMetrics links to mimir, which is not provisioned [CORRELATION_UNBOUND]\n" +
				"environments.cue:2:15: " + at + "environment prod binds prometheus datasource mimir, which its dashboards name, but this file does not provision it [DATASOURCE_NOT_PROVISIONED]\n"},
		{"a correlation to a datasource of the wrong type is refused",
			[]string{"tracesToLogsV2:\n        datasourceUid: loki", "tracesToLogsV2:\n        datasourceUid: mimir"},
			at + "datasource tempo: tracesToLogsV2 links to mimir, a prometheus datasource; want loki [CORRELATION_UNBOUND]\n"},
		{"a trace-to-logs query that can read the raw stream is refused",
			[]string{`stream="redacted"`, `stream=~".+"`},
			at + "datasource tempo: the trace-to-logs query matches stream=~\".+\", which can select the raw stream; trace links may read only the redacted stream [RAW_STREAM_IN_STANDARD_DASHBOARD]\n"},
		{"a trace-to-logs tag that is not a stream label is refused",
			[]string{"value: workload", "value: service_name"},
			at + "datasource tempo: tracesToLogsV2 maps service.name to service_name, which is not a stream label; the taxonomy allows env, model_version, stream, team, user_class, workload [STREAM_LABEL_NOT_ALLOWED]\n"},
		{"a Loki datasource without the structured-metadata trace link is warned about",
			[]string{"matcherType: label", "matcherType: regex"},
			"warning: " + at + "datasource loki: no derived field reads trace_id with matcherType label; OTLP logs carry it in structured metadata, which a regex never sees [CORRELATION_TRACE_ID]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := good
			if tc.replace != nil {
				if !strings.Contains(body, tc.replace[0]) {
					t.Fatalf("the rendered file has no %q", tc.replace[0])
				}
				body = strings.Replace(body, tc.replace[0], tc.replace[1], 1)
			}
			got := printFindings(t, checkDatasources(newArtifacts(p, []write.File{{Path: files[0].Path, Bytes: []byte(body)}})))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
