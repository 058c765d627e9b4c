package datasources_test

import (
	"bytes"
	"context"
	"flag"
	"github.com/aiobs/aiobs/render/write/writetest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/render/datasources"
	"github.com/aiobs/aiobs/validate"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func updating() bool { return *update || os.Getenv("AIOBS_UPDATE") == "1" }

// TestRenderMatchesGoldens compares the example's datasource provisioning
// with testdata/golden, and proves it valid: every uid the environments
// bind is provisioned, every correlation resolves, and Grafana's own
// variables are escaped. -update or AIOBS_UPDATE=1 rewrites the goldens.
func TestRenderMatchesGoldens(t *testing.T) {
	p, err := compile.Compile(context.Background(), "../../examples", compile.Options{})
	if err != nil {
		t.Fatalf("compile the example: %v", err)
	}
	files, err := datasources.Render(p)
	if err != nil {
		t.Fatal(err)
	}
	// Only findings about these files count: other checks may expect
	// artifacts this package does not render.
	var l diag.List
	for _, d := range validate.Check(p, files) {
		if strings.Contains(d.Artifact, "/grafana/provisioning/datasources/") {
			l = append(l, d)
		}
	}
	if len(l) > 0 {
		var b bytes.Buffer
		_ = diag.Print(&b, l, diag.FormatText)
		t.Errorf("validate finds:\n%s", b.String())
	}
	root := filepath.Join("testdata", "golden")
	writetest.GoldenTree(t, root, files, updating())
}

func TestURLVariableNamesEachEnvironmentApart(t *testing.T) {
	for _, tc := range []struct {
		name, env, signal, want string
	}{
		{"a plain name is uppercased", "prod", "METRICS", "AIOBS_PROD_METRICS_URL"},
		{"dashes become underscores", "eu-west-2", "TRACES", "AIOBS_EU_WEST_2_TRACES_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := datasources.URLVariable(tc.env, tc.signal); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestGrafanaVariablesAreEscaped guards the one mistake Grafana does not
// report: an unescaped ${__value.raw} is expanded from the environment to
// nothing, and the link silently goes nowhere.
func TestGrafanaVariablesAreEscaped(t *testing.T) {
	p, err := compile.Compile(context.Background(), "../../examples", compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := datasources.Render(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		body := string(f.Bytes)
		for _, v := range []string{"${__value.raw}", "${__tags}", "${__trace.traceId}", "$__tags"} {
			if n, esc := strings.Count(body, v), strings.Count(body, "$"+v); n == 0 || n != esc {
				t.Errorf("%s: %s appears %d times, %d of them escaped as $%s", f.Path, v, n, esc, v)
			}
		}
	}
}
