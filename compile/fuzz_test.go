package compile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/compile/diag"
)

// FuzzCompile feeds arbitrary bytes as a decision file next to a valid
// environment. Compilation must never panic, and every failure must be a
// diagnostic list whose entries carry a rule and a message.
func FuzzCompile(f *testing.F) {
	seeds := []string{
		"",
		"teams: a: {oncall: \"p\", workloads: chat: {backend: \"vllm\", model: \"m\", cost: gpuHourUSD: 1}}",
		"teams: \"../etc\": oncall: \"x\"",
		"teams: a: workloads: \"a/b\": backend: \"vllm\"",
		"teams: a: {oncall: \"p\", workloads: c: {backend: \"vllm\", model: \"m\\\"} or vector(1)\", cost: gpuHourUSD: 1}}",
		"teams: a: {oncall: \"p\", workloads: c: {backend: \"vllm\", model: \"m\", selector: job: \"a\\nb\", cost: gpuHourUSD: 1}}",
		"teams: [for x in [1,2,3] {x}]",
		"a: b: c: d: e: f: g: h: i: j: k: 1",
		"\xff\xfe\x00",
		"teams: a: {oncall: \"p\", workloads: c: {backend: \"vllm\", model: \"m\", slo: availability: 99.99999999999999999, cost: gpuHourUSD: 1}}",
		"environments: prod: paging: false",
		"x: y & z",
		"import \"strings\"\nteams: a: oncall: strings.ToUpper(\"x\")",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	env := []byte("environments: prod: datasources: {metrics: \"m\", logs: \"l\", traces: \"t\"}\n")
	f.Fuzz(func(t *testing.T, src string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "env.cue"), env, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "team.cue"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := compile.Compile(context.Background(), dir, compile.Options{Cwd: dir})
		if err == nil {
			if p == nil {
				t.Fatal("nil plan without an error")
			}
			return
		}
		var l diag.List
		if !errors.As(err, &l) {
			t.Fatalf("error is not a diagnostic list: %v", err)
		}
		for _, d := range l {
			if d.Rule == "" || d.Msg == "" {
				t.Fatalf("diagnostic without rule or message: %+v", d)
			}
		}
	})
}
