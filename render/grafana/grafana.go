// Package grafana renders the Grafana artifacts of a plan: for every
// environment, one standard dashboard per workload, a cost dashboard per
// team and a fleet GPU dashboard, the file provider that loads them into
// one folder per team, and one Kubernetes ConfigMap per dashboard for the
// Grafana sidecar.
//
// Panels come from the panels package; this package lays them out, gives
// them ids in document order, adds the template variables, links and the
// built-in annotation, and writes canonical JSON (sorted keys, no HTML
// escaping, no id or version). It reads the plan only and returns
// artifacts; it never touches the file system.
//
// Paths, relative to the output directory:
//
//	<env>/grafana/dashboards/<team>/<uid>.json       workload and team cost dashboards
//	<env>/grafana/dashboards/aiobs-fleet/<uid>.json  fleet GPU dashboard
//	<env>/grafana/provisioning/dashboards/aiobs.yaml file provider
//	<env>/kubernetes/grafana-dashboards/<uid>.yaml   sidecar ConfigMaps
package grafana

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/internal/parallel"
	"github.com/aiobs/aiobs/panels"
	"github.com/aiobs/aiobs/render/write"
)

// FleetFolder is the folder (and directory) of the fleet GPU dashboard.
const FleetFolder = "aiobs-fleet"

// ProvisioningPath is where Grafana must find the contents of
// <env>/grafana/dashboards; the file provider points there.
const ProvisioningPath = "/var/lib/grafana/dashboards/aiobs"

// CostUID is the uid of a team's cost dashboard, the same in every
// environment.
func CostUID(team string) string { return plan.UID("aiobs", team, "cost") }

// FleetUID is the fleet GPU dashboard's uid, the same in every
// environment.
func FleetUID() string { return plan.UID("aiobs", "fleet", "gpu") }

// Render returns the Grafana artifacts of the plan, sorted by path. A
// diag.List error names decisions that cannot be rendered (a dashboard too
// large for its ConfigMap, two dashboards with one uid).
//
// It is the sum of the unit functions below, which render.Render calls
// one by one so that it can reuse what has not changed; dashboards are
// built and encoded in parallel, each landing at its own index, so the
// result does not depend on scheduling.
func Render(p *plan.Plan) ([]write.File, error) {
	if diags := Collisions(p); len(diags) > 0 {
		return nil, diags
	}
	var units []func() ([]write.File, diag.List, error)
	for _, env := range p.Environments {
		for _, t := range p.TargetsIn(env.Name) {
			units = append(units, func() ([]write.File, diag.List, error) { return WorkloadFiles(t, &p.Standard) })
		}
		for _, tt := range TeamsIn(p, env) {
			units = append(units, func() ([]write.File, diag.List, error) { return CostFiles(env, tt.Team, tt.Targets, &p.Standard) })
		}
		units = append(units, func() ([]write.File, diag.List, error) { return EnvironmentFiles(env, &p.Standard) })
	}
	type result struct {
		files []write.File
		diags diag.List
		err   error
	}
	results := parallel.Map(len(units), func(i int) result {
		files, diags, err := units[i]()
		return result{files, diags, err}
	})
	var out []write.File
	var diags diag.List
	for _, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		diags = append(diags, r.diags...)
		out = append(out, r.files...)
	}
	if len(diags) > 0 {
		return nil, diags.Sorted()
	}
	slices.SortFunc(out, func(a, b write.File) int { return cmp.Compare(a.Path, b.Path) })
	return out, nil
}

// WorkloadFiles renders one target's workload dashboard and its ConfigMap.
// They read the target and the standard only.
func WorkloadFiles(t *plan.Target, std *plan.Standard) ([]write.File, diag.List, error) {
	return workloadBoard(t, std).files()
}

// TeamTargets is a team and its targets in one environment, in plan
// order: what its cost dashboard shows.
type TeamTargets struct {
	Team    *plan.Team
	Targets []*plan.Target
}

// TeamsIn groups the targets of an environment by team, in plan order;
// a team with no target there is left out.
func TeamsIn(p *plan.Plan, env *plan.Environment) []TeamTargets {
	var out []TeamTargets
	for _, t := range p.TargetsIn(env.Name) {
		// Targets are sorted by team, so a team's targets are adjacent.
		if n := len(out); n == 0 || out[n-1].Team.Name != t.Team.Name {
			out = append(out, TeamTargets{Team: t.Team})
		}
		out[len(out)-1].Targets = append(out[len(out)-1].Targets, t)
	}
	return out
}

// CostFiles renders a team's cost dashboard in one environment, and its
// ConfigMap, from the team's targets there.
func CostFiles(env *plan.Environment, team *plan.Team, targets []*plan.Target, std *plan.Standard) ([]write.File, diag.List, error) {
	return costBoard(env, team, costContexts(targets, std)).files()
}

// costContexts are the panel contexts of a cost dashboard's targets, with
// the model and the cost decision fixed per panel.
func costContexts(targets []*plan.Target, std *plan.Standard) []*panels.Context {
	contexts := make([]*panels.Context, len(targets))
	for i, t := range targets {
		contexts[i] = &panels.Context{Target: t, Standard: std, Fixed: true}
	}
	return contexts
}

// EnvironmentFiles renders what an environment has once: the fleet GPU
// dashboard, its ConfigMap and the dashboard file provider.
func EnvironmentFiles(env *plan.Environment, std *plan.Standard) ([]write.File, diag.List, error) {
	files, diags, err := fleetBoard(env, std).files()
	if err != nil || len(diags) > 0 {
		return nil, diags, err
	}
	prov, err := providerOf(env)
	if err != nil {
		return nil, nil, err
	}
	return append(files, prov), nil, nil
}

// files encodes the board and wraps it in its ConfigMap.
func (b *board) files() ([]write.File, diag.List, error) {
	data, err := b.encode()
	if err != nil {
		return nil, nil, fmt.Errorf("dashboard %s in %s: %w", b.uid, b.env.Name, err)
	}
	cm, d, err := configMap(b.env, b, data)
	if err != nil {
		return nil, nil, fmt.Errorf("dashboard %s in %s: %w", b.uid, b.env.Name, err)
	}
	if len(d) > 0 {
		return nil, d, nil
	}
	return []write.File{{Path: b.path(), Bytes: data}, cm}, nil, nil
}

// Collisions refuses two dashboards with one uid in an environment. It
// reads names only, so it is cheap enough to run on every render, reused
// units included.
func Collisions(p *plan.Plan) diag.List {
	var out diag.List
	for _, env := range p.Environments {
		out = append(out, collisions(env, environmentBoards(p, env))...)
	}
	return out.Sorted()
}

// environmentBoards are the dashboards of one environment, not yet built:
// each target's workload dashboard, each team's cost dashboard, and the
// fleet's.
func environmentBoards(p *plan.Plan, env *plan.Environment) []*board {
	var boards []*board
	for _, t := range p.TargetsIn(env.Name) {
		boards = append(boards, workloadBoard(t, &p.Standard))
	}
	for _, tt := range TeamsIn(p, env) {
		boards = append(boards, costBoard(env, tt.Team, costContexts(tt.Targets, &p.Standard)))
	}
	return append(boards, fleetBoard(env, &p.Standard))
}

// collisions refuses two dashboards with one uid: a workload named cost
// clashes with its team's cost dashboard, team fleet's workload gpu with
// the fleet dashboard.
func collisions(env *plan.Environment, boards []*board) diag.List {
	var out diag.List
	seen := map[string]*board{}
	for _, b := range boards {
		if prev, ok := seen[b.uid]; ok {
			pos := b.pos
			if !pos.IsValid() {
				pos = prev.pos
			}
			out = append(out, diag.Diagnostic{Pos: pos, Rule: "DASHBOARD_UID_COLLISION", Severity: diag.Error,
				Artifact: b.path(),
				Msg:      fmt.Sprintf("dashboards %q and %q would share uid %s; rename the workload", prev.title, b.title, b.uid)})
			continue
		}
		seen[b.uid] = b
	}
	return out
}
