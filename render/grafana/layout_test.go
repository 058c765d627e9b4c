package grafana

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/panels"
)

func sized(w, h uint32) panels.Panel {
	return panels.Panel{Panel: dashboard.Panel{Type: "timeseries"}, W: w, H: h}
}

// placement is a panel's id and grid position as "id x,y wxh".
type placement struct {
	ID         uint32
	X, Y, W, H uint32
}

func placements(ps []dashboard.PanelOrRowPanel) []placement {
	var out []placement
	for _, p := range ps {
		if p.RowPanel != nil {
			g := p.RowPanel.GridPos
			out = append(out, placement{p.RowPanel.Id, g.X, g.Y, g.W, g.H})
			continue
		}
		g := p.Panel.GridPos
		out = append(out, placement{*p.Panel.Id, g.X, g.Y, g.W, g.H})
	}
	return out
}

func TestLayout(t *testing.T) {
	tests := []struct {
		name string
		rows []panels.Row
		want []placement
	}{
		{
			name: "panels fill a line left to right under their row",
			rows: []panels.Row{{Title: "a", Panels: []panels.Panel{sized(8, 8), sized(8, 8), sized(8, 8)}}},
			want: []placement{{1, 0, 0, 24, 1}, {2, 0, 1, 8, 8}, {3, 8, 1, 8, 8}, {4, 16, 1, 8, 8}},
		},
		{
			name: "a panel wider than what is left starts a line below the tallest",
			rows: []panels.Row{{Title: "a", Panels: []panels.Panel{sized(12, 4), sized(8, 8), sized(8, 3)}}},
			want: []placement{{1, 0, 0, 24, 1}, {2, 0, 1, 12, 4}, {3, 12, 1, 8, 8}, {4, 0, 9, 8, 3}},
		},
		{
			name: "the next row starts below the previous row's last line",
			rows: []panels.Row{
				{Title: "a", Panels: []panels.Panel{sized(24, 2)}},
				{Title: "b", Panels: []panels.Panel{sized(6, 4)}},
			},
			want: []placement{{1, 0, 0, 24, 1}, {2, 0, 1, 24, 2}, {3, 0, 3, 24, 1}, {4, 0, 4, 6, 4}},
		},
		{
			name: "an empty row is left out and numbers stay consecutive",
			rows: []panels.Row{{Title: "empty"}, {Title: "b", Panels: []panels.Panel{sized(30, 4)}}},
			want: []placement{{1, 0, 0, 24, 1}, {2, 0, 1, 24, 4}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, placements(layout(tt.rows))); d != "" {
				t.Errorf("layout (-want +got):\n%s", d)
			}
		})
	}
}

func TestSizeFinding(t *testing.T) {
	pos := diag.Pos{File: "teams.cue", Line: 3}
	tests := []struct {
		name string
		n    int
		want string
	}{
		{"a ConfigMap at the annotation limit is accepted", MaxAppliedBytes, ""},
		{"one byte over the annotation limit is refused", MaxAppliedBytes + 1, "CONFIGMAP_TOO_LARGE"},
		{"over the object limit is refused", MaxConfigMapBytes + 1, "CONFIGMAP_TOO_LARGE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := sizeFinding(tt.n, "prod/kubernetes/grafana-dashboards/x.yaml", pos)
			got := ""
			if d != nil {
				got = d.Rule
				if d.Pos != pos || d.Artifact == "" {
					t.Errorf("finding lacks its position or artifact: %+v", d)
				}
			}
			if got != tt.want {
				t.Errorf("rule = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConfigMapRefusesADashboardTooLargeForKubectlApply(t *testing.T) {
	env := &plan.Environment{Name: "prod"}
	b := &board{env: env, uid: "aiobs--t--w", folder: "t", pos: diag.Pos{File: "t.cue", Line: 1}}
	huge := append([]byte(`{"description": "`), bytes.Repeat([]byte("x"), MaxAppliedBytes)...)
	huge = append(huge, `"}`...)
	f, l, err := configMap(env, b, huge)
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 1 || l[0].Rule != "CONFIGMAP_TOO_LARGE" || f.Path != "" {
		t.Errorf("want one CONFIGMAP_TOO_LARGE finding and no file, got %v and %q", l, f.Path)
	}
	_, l, err = configMap(env, b, []byte(`{}`))
	if err != nil || len(l) != 0 {
		t.Errorf("a small dashboard: findings %v, error %v", l, err)
	}
}
