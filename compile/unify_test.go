package compile

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/internal/synth"
)

// TestOneInstanceMeansTheSame compiles each input twice, once with evaluate
// and once unifying the files one by one (the former algorithm, which
// evaluate keeps for inputs crossFileNames flags), and requires the same
// plan, positions included, or the same diagnostics, byte for byte.
func TestOneInstanceMeansTheSame(t *testing.T) {
	dirs := map[string]string{"examples": filepath.Join("..", "examples")}

	synthDir := filepath.Join(t.TempDir(), "synth")
	if err := synth.Write(synthDir, synth.ForWorkloads(45, 3)); err != nil {
		t.Fatal(err)
	}
	dirs["synth-45"] = synthDir

	archives, err := filepath.Glob("../testdata/bad/*.txtar")
	if err != nil || len(archives) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, path := range archives {
		ar, err := txtar.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		dirs["bad/"+strings.TrimSuffix(filepath.Base(path), ".txtar")] = writeArchive(t, ar.Files, "decisions/")
	}
	for name, files := range multiFileCases {
		dirs["multi/"+name] = writeArchive(t, txtar.Parse([]byte(files)).Files, "")
	}

	for name, dir := range dirs {
		t.Run(name, func(t *testing.T) {
			gotPlan, gotDiags := compileWith(t, dir, (*compiler).evaluate)
			wantPlan, wantDiags := compileWith(t, dir, evaluateOneByOne)
			t.Logf("plan %d bytes; diagnostics:\n%s", len(wantPlan), wantDiags)
			if d := cmp.Diff(wantDiags, gotDiags); d != "" {
				t.Errorf("diagnostics differ (-one by one +one instance):\n%s", d)
			}
			if d := cmp.Diff(wantPlan, gotPlan); d != "" {
				t.Errorf("plans differ (-one by one +one instance):\n%s", d)
			}
		})
	}
}

// multiFileCases are inputs whose meaning depends on how files combine.
var multiFileCases = map[string]string{
	"team split across files": `
-- env.cue --
environments: prod: datasources: {metrics: "m", logs: "l", traces: "t"}
-- team-settings.cue --
teams: a: {oncall: "a-pager", chat: "a-chat"}
-- team-workloads.cue --
teams: a: workloads: chat: {backend: "vllm", model: "m", cost: gpuHourUSD: 1, slo: ttft: under: "500ms"}
`,
	"conflict between files": `
-- env.cue --
environments: prod: datasources: {metrics: "m", logs: "l", traces: "t"}
-- a.cue --
teams: a: {oncall: "a-pager", chat: "one"}
-- b.cue --
teams: a: {chat: "two", workloads: chat: {backend: "vllm", model: "m"}}
`,
	"errors in two files, one incomplete": `
-- env.cue --
environments: prod: datasources: {metrics: "m", logs: "l"}
-- a.cue --
teams: a: {oncall: "a-pager", workloads: chat: {backend: "vllm", model: "m", agent: "yes"}}
-- b.cue --
teams: b: workloads: rank: {backend: "triton"}
`,
	"only incomplete errors": `
-- env.cue --
environments: prod: datasources: {metrics: "m", logs: "l"}
-- b.cue --
teams: b: workloads: rank: {backend: "triton"}
`,
	"unknown fields in two files": `
-- env.cue --
environments: prod: {datasources: {metrics: "m", logs: "l", traces: "t"}, pagin: false}
-- a.cue --
teams: a: {oncall: "a-pager", workloads: chat: {backend: "vllm", model: "m", slo: availabilty: 99}}
`,
	"environment and backend from other files": `
-- env.cue --
environments: {
	prod: datasources: {metrics: "m", logs: "l", traces: "t"}
	dev: {datasources: {metrics: "m", logs: "l", traces: "t"}, paging: false}
}
-- backend.cue --
backends: mine: {modelLabel: "model", stages: {requests: {name: "reqs_total", type: "counter", unit: "short"}, errors: {name: "errs_total", type: "counter", unit: "short"}}}
-- team.cue --
teams: a: {oncall: "a-pager", workloads: {
	chat: {backend: "mine", model: "m", environments: ["prod", "dev"]}
	bad: {backend: "mien", model: "m", environments: ["prdo"]}
}}
`,
	"log rules tuned in their own file": `
-- env.cue --
environments: prod: datasources: {metrics: "m", logs: "l", traces: "t"}
-- logs.cue --
logs: alerts: {
	RetryStorm: {threshold: 5, for: "15m"}
	PiiPhoneNumberInLogs: severity: "notify"
}
-- team.cue --
teams: a: {oncall: "a-pager", workloads: chat: {backend: "vllm", model: "m"}}
`,
	"a reference to nothing": `
-- env.cue --
environments: prod: datasources: {metrics: "m", logs: "l", traces: "t"}
-- team.cue --
teams: a: {oncall: pager, workloads: chat: {backend: "vllm", model: "m"}}
`,
	"a reference to another file": `
-- env.cue --
package decisions
environments: prod: datasources: {metrics: "m", logs: "l", traces: "t"}
pager: "shared-pager"
-- team.cue --
package decisions
teams: a: {oncall: pager, workloads: chat: {backend: "vllm", model: "m"}}
`,
	"a standard definition redeclared in another file": `
-- env.cue --
package decisions
environments: prod: datasources: {metrics: "m", logs: "l", traces: "t"}
#SLOs: {availability: 90}
-- team.cue --
package decisions
teams: a: {oncall: "a-pager", workloads: chat: {backend: "vllm", model: "m", slo: #SLOs}}
`,
	"standard definitions and local ones": `
-- env.cue --
environments: prod: datasources: {metrics: "m", logs: "l", traces: "t"}
-- team.cue --
package decisions
#Fast: #LatencySLO & {under: "500ms", objective: 99}
_cost: {gpuHourUSD: 2, gpus: 2}
teams: a: {oncall: "a-pager", workloads: {
	chat: {backend: "vllm", model: "m", slo: ttft: #Fast, cost: _cost}
	chat2: {backend: "vllm", model: "m", slo: #SLOs & {ttft: #Fast}, cost: _cost}
}}
`,
	"hidden fields of one name in two files": `
-- env.cue --
environments: prod: datasources: {metrics: "m", logs: "l", traces: "t"}
_cost: {gpuHourUSD: 9, gpus: 9}
-- a.cue --
_cost: {gpuHourUSD: 2, gpus: 2}
teams: a: {oncall: "a-pager", _owner: "x", workloads: chat: {backend: "vllm", model: "m", cost: _cost}}
-- b.cue --
package decisions
_cost: {gpuHourUSD: 3, gpus: 1}
teams: a: {_owner: "y", workloads: rank: {backend: "sglang", model: "m", cost: _cost}}
`,
	"hidden fields of one name in one package": `
-- env.cue --
package decisions
environments: prod: datasources: {metrics: "m", logs: "l", traces: "t"}
_cost: {gpuHourUSD: 2}
-- a.cue --
package decisions
_cost: {gpus: 2}
teams: a: {oncall: "a-pager", _owner: "x", workloads: chat: {backend: "vllm", model: "m", cost: _cost}}
-- b.cue --
package decisions
teams: a: {_owner: "y", workloads: rank: {backend: "sglang", model: "m"}}
`,
	"different package names": `
-- env.cue --
package envs
environments: prod: datasources: {metrics: "m", logs: "l", traces: "t"}
-- team.cue --
package teams
teams: a: {oncall: "a-pager", workloads: chat: {backend: "vllm", model: "m"}}
-- other.cue --
teams: b: {oncall: "b-pager", workloads: chat: {backend: "sglang", model: "m"}}
`,
}

func writeArchive(t *testing.T, files []txtar.File, under string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		if f.Name == "want" {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(under, "/")))
}

// evaluateOneByOne is the former evaluate.
func evaluateOneByOne(c *compiler, files []decisionFile) (cue.Value, diag.List) {
	vals, diags := c.buildFiles(files)
	if len(diags) > 0 {
		return cue.Value{}, diags
	}
	schema := c.std.LookupPath(cue.ParsePath("#Decisions"))
	v, err := unifyOneByOne(schema, vals)
	if err != nil {
		return cue.Value{}, cueDiagsIn(v, err, "DECISION_INVALID")
	}
	return v, nil
}

// compileWith is Compile with the evaluation step given; it returns the
// plan as JSON and the diagnostics as text.
func compileWith(t *testing.T, dir string, evaluate func(*compiler, []decisionFile) (cue.Value, diag.List)) (string, string) {
	t.Helper()
	opts := Options{Cwd: filepath.Dir(dir), MaxFileBytes: DefaultMaxFileBytes, MaxTargets: DefaultMaxTargets}
	files, diags := readDecisions(dir, opts)
	if len(diags) > 0 {
		return "", text(t, diags)
	}
	c := &compiler{ctx: cuecontext.New(), opts: opts, dir: dir, display: displayDir(dir, opts.Cwd)}
	if err := c.loadStandard(); err != nil {
		t.Fatal(err)
	}
	v, diags := evaluate(c, files)
	if len(diags) > 0 {
		return "", text(t, diags)
	}
	p, diags := c.build(v)
	if len(diags) > 0 {
		return "", text(t, diags)
	}
	b, err := json.MarshalIndent(p, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b), ""
}

func text(t *testing.T, l diag.List) string {
	var b bytes.Buffer
	if err := diag.Print(&b, l, diag.FormatText); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestCrossFileNames(t *testing.T) {
	for name, want := range map[string]bool{
		"team split across files":                          false,
		"standard definitions and local ones":              false,
		"hidden fields of one name in one package":         true,
		"a reference to nothing":                           false,
		"a reference to another file":                      true,
		"a standard definition redeclared in another file": true,
		"hidden fields of one name in two files":           true,
	} {
		t.Run(name, func(t *testing.T) {
			dir := writeArchive(t, txtar.Parse([]byte(multiFileCases[name])).Files, "")
			files, diags := readDecisions(dir, Options{MaxFileBytes: DefaultMaxFileBytes})
			if len(diags) > 0 {
				t.Fatal(diags)
			}
			if got := crossFileNames(files); got != want {
				t.Errorf("crossFileNames = %v, want %v", got, want)
			}
		})
	}
}
