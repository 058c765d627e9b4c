// Package render compiles a Plan into artifacts: the bytes of every file
// aiobs owns in the output tree (dashboards, provisioning, Prometheus and
// Loki rules, Kubernetes objects, Alertmanager routing), with slash-separated
// paths relative to the output directory.
//
// Render is pure: it never touches the file system. render/write is the only
// code that writes; this package only decides what to write.
package render

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/datasources"
	"github.com/aiobs/aiobs/render/grafana"
	"github.com/aiobs/aiobs/render/lokirules"
	"github.com/aiobs/aiobs/render/promrules"
	"github.com/aiobs/aiobs/render/write"
)

// Artifact is one output file.
type Artifact = write.File

// renderer is one target system's compiler.
type renderer struct {
	name   string
	render func(*plan.Plan) ([]write.File, error)
}

var renderers = []renderer{
	{"grafana", grafana.Render},
	{"prometheus rules", promrules.Render},
	{"loki rules", lokirules.Render},
	{"datasources", datasources.Render},
}

// Render returns every artifact of the plan, sorted by path. An error is a
// diag.List when the decisions are at fault.
func Render(p *plan.Plan) ([]Artifact, error) {
	var out []Artifact
	var diags diag.List
	for _, r := range renderers {
		files, err := r.render(p)
		if err != nil {
			if l, ok := err.(diag.List); ok {
				diags = append(diags, l...)
				continue
			}
			return nil, fmt.Errorf("render %s: %w", r.name, err)
		}
		out = append(out, files...)
	}
	if len(diags) > 0 {
		return nil, diags.Sorted()
	}
	slices.SortFunc(out, func(a, b Artifact) int { return cmp.Compare(a.Path, b.Path) })
	for i := 1; i < len(out); i++ {
		if out[i].Path == out[i-1].Path {
			return nil, fmt.Errorf("internal error: two renderers produced %s", out[i].Path)
		}
	}
	return out, nil
}
