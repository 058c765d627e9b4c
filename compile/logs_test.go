package compile_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
)

func TestLogDecisionsTuneTheStandard(t *testing.T) {
	dir := t.TempDir()
	writeDecision(t, filepath.Join(dir, "environments.cue"), `
environments: prod: {
	datasources: {metrics: "mimir", logs: "loki", traces: "tempo"}
	loki: {tenant: "ai-prod", raw: {tenant: "ai-prod-raw", retentionHours: 48}}
}
environments: dev: datasources: {metrics: "mimir-dev", logs: "loki-dev", traces: "tempo-dev"}
`)
	writeDecision(t, filepath.Join(dir, "logs.cue"), `
logs: alerts: {
	PiiPhoneNumberInLogs: severity: "notify"
	RetryStorm: {threshold: 5, for: "15m"}
	GpuXidError: enabled: false
	PiiEmailInLogs: notMatches: ["@example\\.com"]
	GatewayPanics: {
		class: "infra", severity: "page"
		streams: model_version: "v2"
		contains: ["panic:"]
		title: "Gateway panics", description: "The gateway crashed."
	}
}
`)
	p, err := compile.Compile(context.Background(), dir, compile.Options{Cwd: dir})
	if err != nil {
		t.Fatal(err)
	}
	alerts := map[string]*plan.LogAlert{}
	for _, a := range p.Standard.Logs.Alerts {
		alerts[a.Name] = a
	}
	type summary struct {
		Severity, Op, Threshold, For, Window string
		AlwaysPage                           bool
		NotMatches                           []string
		Streams                              []plan.Label
		Pos                                  diag.Pos
	}
	sum := func(name string) *summary {
		a := alerts[name]
		if a == nil {
			return nil
		}
		return &summary{a.Severity, a.Op, a.Threshold, a.For, a.Query.Window, a.AlwaysPage, a.Query.NotMatches, a.Query.Streams, a.Pos}
	}
	for _, tc := range []struct {
		name, alert string
		want        *summary
	}{
		{"a standard rule keeps its defaults", "CudaOutOfMemory", &summary{"page", ">", "0", "0m", "5m", false, nil, nil, diag.Pos{}}},
		{"a PII rule may be told not to page, and names the override's position", "PiiPhoneNumberInLogs",
			&summary{"notify", ">", "0", "0m", "5m", true, nil, nil, diag.Pos{File: "logs.cue", Line: 3, Column: 2}}},
		{"a threshold and duration are tuned", "RetryStorm", &summary{"notify", ">", "5", "15m", "5m", false, nil, nil, diag.Pos{File: "logs.cue", Line: 4, Column: 2}}},
		{"an allow-list is added", "PiiEmailInLogs", &summary{"page", ">", "0", "0m", "5m", true, []string{`@example\.com`}, nil, diag.Pos{File: "logs.cue", Line: 6, Column: 2}}},
		{"a disabled rule leaves the plan", "GpuXidError", nil},
		{"an organisation's rule takes the defaults and its position", "GatewayPanics",
			&summary{"page", ">", "0", "0m", "5m", false, nil, []plan.Label{{Name: "model_version", Value: "v2"}}, diag.Pos{File: "logs.cue", Line: 7, Column: 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, sum(tc.alert)); d != "" {
				t.Errorf("%s (-want +got):\n%s", tc.alert, d)
			}
		})
	}
	t.Run("the raw stream is bound to its environment", func(t *testing.T) {
		raw := p.Environment("prod").Loki.Raw
		want := &plan.LokiRaw{Tenant: "ai-prod-raw", RetentionHours: 48, Pos: diag.Pos{File: "environments.cue", Line: 4, Column: 28}}
		if d := cmp.Diff(want, raw); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
		if p.Environment("dev").Loki.Raw != nil {
			t.Errorf("dev has a raw stream it did not opt in to")
		}
	})
}

func writeDecision(t *testing.T, path, src string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}
