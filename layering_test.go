package aiobs_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// allowed lists, per package, the aiobs packages and third-party module
// prefixes it may import. It is the data-flow table of the design: nothing
// below cmd/aiobs imports cobra, nothing after compile imports CUE, and
// nothing imports cmd/aiobs.
var allowed = map[string][]string{
	"compile/diag":            {},
	"compile/plan":            {"compile/diag"},
	"standards":               {},
	"compile":                 {"compile/diag", "compile/plan", "standards", "environments", "gpuprobe/report", "cuelang.org/go", "github.com/prometheus/common"},
	"environments":            {"compile/diag", "compile/plan", "gpuprobe/report"},
	"panels":                  {"compile/plan", "github.com/grafana/grafana-foundation-sdk"},
	"render":                  {"compile/diag", "compile/plan", "internal/parallel", "render/"},
	"render/encode":           {"go.yaml.in/yaml"},
	"render/write":            {"internal/parallel", "github.com/rogpeppe/go-internal/diff", "golang.org/x/sys/unix"},
	"internal/parallel":       {},
	"render/grafana":          {"compile/diag", "compile/plan", "internal/parallel", "panels", "render/encode", "render/write", "github.com/grafana/grafana-foundation-sdk"},
	"render/promrules":        {"compile/diag", "compile/plan", "internal/parallel", "render/encode", "render/write", "github.com/prometheus/", "github.com/prometheus-operator/", "k8s.io/", "go.yaml.in/yaml"},
	"render/lokirules":        {"compile/diag", "compile/plan", "internal/parallel", "render/encode", "render/write", "go.yaml.in/yaml"},
	"render/datasources":      {"compile/diag", "compile/plan", "render/encode", "render/write", "go.yaml.in/yaml"},
	"validate":                {"internal/parallel", "render/promrules", "compile/diag", "compile/plan", "render/", "environments", "panels", "github.com/prometheus/", "go.yaml.in/yaml", "github.com/grafana/grafana-foundation-sdk"},
	"validate/slotest":        {"compile/plan", "render/promrules", "render/write", "github.com/prometheus/", "go.yaml.in/yaml"},
	"validate/smoke":          {"compile/plan", "render", "validate", "github.com/prometheus/", "go.yaml.in/yaml"},
	"validate/live":           {"compile/diag", "compile/plan"},
	"render/write/writetest":  {"render/write", "github.com/google/go-cmp"},
	"render/preview":          {},
	"gpuprobe":                {"gpuprobe/"},
	"gpuprobe/report":         {},
	"gpuprobe/backend":        {},
	"gpuprobe/internal/guard": {"gpuprobe/backend"},
	"gpuprobe/dcgm":           {"gpuprobe/backend", "gpuprobe/internal/guard", "github.com/NVIDIA/go-dcgm"},
	"gpuprobe/nvml":           {"gpuprobe/backend", "gpuprobe/internal/guard", "github.com/NVIDIA/go-nvml"},
	"gpuprobe/fake":           {"gpuprobe/backend"},
}

func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/aiobs/aiobs/"
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var pkg struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&pkg); err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(pkg.ImportPath, mod)
		rules, ok := allowed[name]
		if !ok {
			continue
		}
		for _, imp := range pkg.Imports {
			if !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
				continue // standard library
			}
			target := strings.TrimPrefix(imp, mod)
			if target == "cmd/aiobs" {
				t.Errorf("%s imports cmd/aiobs", name)
			}
			if !permitted(target, rules) {
				t.Errorf("%s may not import %s (allowed: %v)", name, imp, rules)
			}
		}
	}
}

func permitted(imp string, rules []string) bool {
	for _, r := range rules {
		if imp == r || strings.HasPrefix(imp, r) && (strings.HasSuffix(r, "/") || strings.HasPrefix(imp[len(r):], "/") || strings.Contains(r, ".")) {
			return true
		}
	}
	return false
}
