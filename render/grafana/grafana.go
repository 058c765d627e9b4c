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
func Render(p *plan.Plan) ([]write.File, error) {
	var out []write.File
	var diags diag.List
	for _, env := range p.Environments {
		boards, err := environmentBoards(p, env)
		if err != nil {
			return nil, err
		}
		diags = append(diags, collisions(env, boards)...)
		for _, b := range boards {
			data, err := b.encode()
			if err != nil {
				return nil, fmt.Errorf("dashboard %s: %w", b.uid, err)
			}
			path := env.Name + "/grafana/dashboards/" + b.folder + "/" + b.uid + ".json"
			out = append(out, write.File{Path: path, Bytes: data})
			cm, d, err := configMap(env, b, data)
			if err != nil {
				return nil, fmt.Errorf("dashboard %s: %w", b.uid, err)
			}
			diags = append(diags, d...)
			out = append(out, cm)
		}
		prov, err := providerOf(env)
		if err != nil {
			return nil, err
		}
		out = append(out, prov)
	}
	if len(diags) > 0 {
		return nil, diags.Sorted()
	}
	slices.SortFunc(out, func(a, b write.File) int { return cmp.Compare(a.Path, b.Path) })
	return out, nil
}

// environmentBoards are the dashboards of one environment: each target's
// workload dashboard, each team's cost dashboard, and the fleet's.
func environmentBoards(p *plan.Plan, env *plan.Environment) ([]*board, error) {
	var boards []*board
	byTeam := map[string][]*panels.Context{}
	var teams []*plan.Team
	for _, t := range p.TargetsIn(env.Name) {
		b, err := workloadBoard(t, &p.Standard)
		if err != nil {
			return nil, fmt.Errorf("%s/%s in %s: %w", t.Team.Name, t.Workload.Name, env.Name, err)
		}
		boards = append(boards, b)
		if _, ok := byTeam[t.Team.Name]; !ok {
			teams = append(teams, t.Team)
		}
		byTeam[t.Team.Name] = append(byTeam[t.Team.Name], &panels.Context{Target: t, Standard: &p.Standard, Fixed: true})
	}
	for _, team := range teams {
		b, err := costBoard(env, team, byTeam[team.Name])
		if err != nil {
			return nil, fmt.Errorf("cost of %s in %s: %w", team.Name, env.Name, err)
		}
		boards = append(boards, b)
	}
	b, err := fleetBoard(env, &p.Standard)
	if err != nil {
		return nil, fmt.Errorf("fleet in %s: %w", env.Name, err)
	}
	return append(boards, b), nil
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
				Artifact: env.Name + "/grafana/dashboards/" + b.folder + "/" + b.uid + ".json",
				Msg:      fmt.Sprintf("dashboards %q and %q would share uid %s; rename the workload", prev.title, b.title, b.uid)})
			continue
		}
		seen[b.uid] = b
	}
	return out
}
