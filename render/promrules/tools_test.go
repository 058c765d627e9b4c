package promrules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// requireTool finds a binary. Where it is missing the test is skipped,
// unless AIOBS_REQUIRE_TOOLS=1 (CI sets it) makes that a failure.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("AIOBS_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s not found and AIOBS_REQUIRE_TOOLS=1: %v", name, err)
		}
		t.Skipf("%s not installed (apt-get install prometheus prometheus-alertmanager); set AIOBS_REQUIRE_TOOLS=1 to require it", name)
	}
	return path
}

// writeExample writes the example's artifacts to a temporary tree, so
// the tools judge what Render produces now.
func writeExample(t *testing.T) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for _, f := range renderExample(t) {
		path := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, f.Bytes, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, f.Path)
	}
	return dir, paths
}

func TestPromtoolChecksTheRuleFiles(t *testing.T) {
	promtool := requireTool(t, "promtool")
	dir, paths := writeExample(t)
	var rules []string
	for _, p := range paths {
		if strings.Contains(p, "/prometheus/rules/") {
			rules = append(rules, filepath.Join(dir, p))
		}
	}
	out, err := exec.Command(promtool, append([]string{"check", "rules"}, rules...)...).CombinedOutput()
	if err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
}

func TestAmtoolChecksTheAlertmanagerConfigs(t *testing.T) {
	amtool := requireTool(t, "amtool")
	dir, paths := writeExample(t)
	for _, p := range paths {
		if !strings.HasSuffix(p, "/alertmanager/alertmanager.yaml") {
			continue
		}
		out, err := exec.Command(amtool, "check-config", filepath.Join(dir, p)).CombinedOutput()
		if err != nil {
			t.Errorf("amtool check-config %s: %v\n%s", p, err, out)
		}
	}
}

// TestPromtoolRunsTheUnitTests runs every generated promtool test. It
// takes minutes, so it runs when AIOBS_PROMTOOL_TEST=1 (make promtool, CI)
// and otherwise tests one file.
func TestPromtoolRunsTheUnitTests(t *testing.T) {
	promtool := requireTool(t, "promtool")
	dir, paths := writeExample(t)
	all := os.Getenv("AIOBS_PROMTOOL_TEST") == "1"
	for _, p := range paths {
		if !strings.HasSuffix(p, "_test.yaml") {
			continue
		}
		if !all && p != "prod/prometheus/tests/search/summarizer_test.yaml" {
			continue
		}
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command(promtool, "test", "rules", filepath.Join(dir, p)).CombinedOutput()
			if err != nil {
				t.Errorf("promtool test rules %s: %v\n%s", p, err, out)
			}
		})
	}
}
