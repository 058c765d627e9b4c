package grafana

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/panels"
	"github.com/aiobs/aiobs/render/encode"
)

// gridWidth is Grafana's grid width in columns.
const gridWidth = 24

// board is one dashboard before it is built and encoded.
type board struct {
	env              *plan.Environment
	uid, title, desc string
	// folder is the directory, and so the Grafana folder, it goes in.
	folder string
	tags   []string
	vars   []cog.Builder[dashboard.VariableModel]
	links  []cog.Builder[dashboard.DashboardLink]
	// rows builds the panels; it runs when the board is encoded, in
	// parallel with the other boards.
	rows func() ([]panels.Row, error)
	// pos is the decision the dashboard renders, for findings.
	pos diag.Pos
}

// path is where the dashboard goes in the output tree.
func (b *board) path() string {
	return b.env.Name + "/grafana/dashboards/" + b.folder + "/" + b.uid + ".json"
}

func workloadBoard(t *plan.Target, std *plan.Standard) *board {
	c := &panels.Context{Target: t, Standard: std}
	w := t.Workload
	return &board{
		env:    t.Env,
		uid:    w.DashboardUID(),
		title:  fmt.Sprintf("AI workload: %s/%s (%s)", t.Team.Name, w.Name, t.Env.Name),
		desc:   fmt.Sprintf("Standard aiobs dashboard of workload %s of team %s on %s serving %s, in environment %s. Rows go from what users feel down to the GPUs.", w.Name, t.Team.Name, w.Backend, w.Model, t.Env.Name),
		folder: t.Team.Name,
		tags:   []string{"aiobs", "ai-workload", "team:" + t.Team.Name, "backend:" + w.Backend},
		vars:   append(panels.DatasourceVariables(t.Env), panels.Variables(c)...),
		links: []cog.Builder[dashboard.DashboardLink]{
			link("Team cost", "Cost of every workload of team "+t.Team.Name, CostUID(t.Team.Name)),
			link("Fleet GPUs", "Every GPU of environment "+t.Env.Name, FleetUID()),
		},
		rows: func() ([]panels.Row, error) {
			var rows []panels.Row
			for _, f := range panels.Workload() {
				r, err := f(c)
				if err != nil {
					return nil, err
				}
				rows = append(rows, r)
			}
			return rows, nil
		},
		pos: w.Pos,
	}
}

func costBoard(env *plan.Environment, team *plan.Team, contexts []*panels.Context) *board {
	b := &board{
		env:    env,
		uid:    CostUID(team.Name),
		title:  fmt.Sprintf("AI cost: %s (%s)", team.Name, env.Name),
		desc:   fmt.Sprintf("Spend of every workload of team %s in environment %s, priced as the cost decisions state.", team.Name, env.Name),
		folder: team.Name,
		tags:   []string{"aiobs", "ai-cost", "team:" + team.Name},
		vars:   panels.DatasourceVariables(env),
		links:  []cog.Builder[dashboard.DashboardLink]{link("Fleet GPUs", "Every GPU of environment "+env.Name, FleetUID())},
		rows:   func() ([]panels.Row, error) { return panels.TeamCost(contexts) },
		pos:    team.Pos,
	}
	for _, c := range contexts {
		w := c.Target.Workload
		b.links = append(b.links, link(w.Name, "Workload dashboard of "+w.Name, w.DashboardUID()))
	}
	return b
}

func fleetBoard(env *plan.Environment, std *plan.Standard) *board {
	return &board{
		env:    env,
		uid:    FleetUID(),
		title:  fmt.Sprintf("AI fleet GPUs (%s)", env.Name),
		desc:   fmt.Sprintf("Every GPU dcgm-exporter reports in environment %s, by host.", env.Name),
		folder: FleetFolder,
		tags:   []string{"aiobs", "ai-fleet", "gpu"},
		vars:   append(panels.DatasourceVariables(env), panels.FleetVariables(env)...),
		rows:   func() ([]panels.Row, error) { return panels.Fleet(env, std) },
		pos:    env.Pos,
	}
}

// link is a dashboard link to another aiobs dashboard by uid. The path is
// relative, so it stays inside the environment's Grafana, and keeps the
// time range.
func link(title, tooltip, uid string) cog.Builder[dashboard.DashboardLink] {
	return dashboard.NewDashboardLinkBuilder(title).
		Type(dashboard.DashboardLinkTypeLink).
		Url("/d/" + uid).
		Tooltip(tooltip).
		Icon("dashboard").
		KeepTime(true).
		IncludeVars(false).
		AsDropdown(false).
		TargetBlank(false)
}

// encode builds the dashboard with the SDK, lays the rows out, numbers
// every panel in document order and returns canonical JSON.
func (b *board) encode() ([]byte, error) {
	rows, err := b.rows()
	if err != nil {
		return nil, err
	}
	tags := slices.Clone(b.tags)
	slices.Sort(tags)
	grafanaType, grafanaUID := "grafana", "-- Grafana --"
	db := dashboard.NewDashboardBuilder(b.title).
		Uid(b.uid).
		Description(b.desc).
		Tags(tags).
		// Provisioned dashboards are code: the UI must not pretend edits
		// stick.
		Readonly().
		Timezone("browser").
		Time("now-6h", "now").
		Refresh("1m").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Variables(b.vars).
		Links(b.links).
		// Grafana adds its built-in annotation on the first save; emitting
		// it keeps that save from showing as a diff.
		Annotation(dashboard.NewAnnotationQueryBuilder().
			Name("Annotations & Alerts").
			Datasource(common.DataSourceRef{Type: &grafanaType, Uid: &grafanaUID}).
			Enable(true).
			Hide(true).
			IconColor("rgba(0, 211, 255, 1)").
			Type("dashboard").
			BuiltIn(1))
	d, err := db.Build()
	if err != nil {
		return nil, err
	}
	// The SDK puts annotations and links in Grafana 12's controls menu,
	// which hides links there and which older Grafana ignores; Grafana's
	// own export has no placement.
	for i := range d.Annotations.List {
		d.Annotations.List[i].Placement = nil
	}
	for i := range d.Links {
		d.Links[i].Placement = nil
	}
	d.Panels = layout(rows)
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return encode.CanonicalJSON(raw)
}

// layout places rows top to bottom, each a full-width row header followed
// by its panels left to right, wrapping at the grid's width, and numbers
// row headers and panels from 1 in that order. Rows are expanded, so their
// panels follow them at the top level. Empty rows are left out.
func layout(rows []panels.Row) []dashboard.PanelOrRowPanel {
	var out []dashboard.PanelOrRowPanel
	var id, y uint32
	for _, r := range rows {
		if len(r.Panels) == 0 {
			continue
		}
		id++
		title := r.Title
		out = append(out, dashboard.PanelOrRowPanel{RowPanel: &dashboard.RowPanel{
			Type: "row", Title: &title, Id: id, Collapsed: false, Panels: []dashboard.Panel{},
			GridPos: &dashboard.GridPos{H: 1, W: gridWidth, X: 0, Y: y},
		}})
		y++
		var x, lineHeight uint32
		for _, p := range r.Panels {
			w := min(p.W, gridWidth)
			if x+w > gridWidth {
				y += lineHeight
				x, lineHeight = 0, 0
			}
			id++
			panel := p.Panel
			pid := id
			panel.Id = &pid
			panel.GridPos = &dashboard.GridPos{H: p.H, W: w, X: x, Y: y}
			out = append(out, dashboard.PanelOrRowPanel{Panel: &panel})
			x += w
			lineHeight = max(lineHeight, p.H)
		}
		y += lineHeight
	}
	return out
}
