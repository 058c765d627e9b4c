package compile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
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

// TestHugeStringIsRefusedWithAShortMessage checks that a 10 MB value fails
// the schema's bounds with a message that does not repeat it.
func TestHugeStringIsRefusedWithAShortMessage(t *testing.T) {
	dir := t.TempDir()
	env := "environments: prod: datasources: {metrics: \"m\", logs: \"l\", traces: \"t\"}\n"
	team := "teams: a: {oncall: \"p\", workloads: chat: {backend: \"vllm\", cost: gpuHourUSD: 1, model: \"" + strings.Repeat("x", 10<<20) + "\"}}\n"
	for name, src := range map[string]string{"env.cue": env, "team.cue": team} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := compile.Compile(context.Background(), dir, compile.Options{Cwd: dir})
	var l diag.List
	if !errors.As(err, &l) || len(l) != 1 {
		t.Fatalf("want one diagnostic, got %v", err)
	}
	d := l[0]
	if d.Pos.File != "team.cue" || d.Pos.Line != 1 || d.Rule != "DECISION_OUT_OF_BOUNDS" {
		t.Errorf("diagnostic %s [%s], want team.cue:1 DECISION_OUT_OF_BOUNDS", d.Pos, d.Rule)
	}
	if len(d.Msg) > 400 || !strings.Contains(d.Msg, "(10485760 bytes)") {
		t.Errorf("message of %d bytes does not summarise the value: %.300s", len(d.Msg), d.Msg)
	}
}
