// Package render compiles a Plan into artifacts: the bytes of every file
// aiobs owns in the output tree (dashboards, provisioning, Prometheus and
// Loki rules, Kubernetes objects, Alertmanager routing), with slash-separated
// paths relative to the output directory.
//
// Render is pure: it never touches the file system. render/write is the only
// code that writes; this package only decides what to write.
//
// # Units and reuse
//
// The artifacts fall into units: each target's (its dashboard, rules,
// tests and Loki rules), each team's cost dashboard in an environment, and
// each environment's own files. A target or cost unit reads nothing but
// the plan values its key hashes, with the renderer's identity, so a unit
// whose key a previous render recorded, and whose files are still on disk
// as that render wrote them, need not be rendered again: RenderWith hands
// those files through instead. Environment units read the whole plan and
// are rendered every time; they are few.
package render

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"sync/atomic"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/internal/parallel"
	"github.com/aiobs/aiobs/render/datasources"
	"github.com/aiobs/aiobs/render/grafana"
	"github.com/aiobs/aiobs/render/lokirules"
	"github.com/aiobs/aiobs/render/promrules"
	"github.com/aiobs/aiobs/render/write"
)

// Artifact is one output file.
type Artifact = write.File

// Options tunes RenderWith.
type Options struct {
	// Salt identifies the renderer: every key hashes it, so a key never
	// outlives the code that rendered its files. The CLI uses its release
	// version, or the hash of its own executable for a development build.
	// Empty: artifacts carry no keys and nothing is reused.
	Salt string
	// Reuse, given the key of every unit, returns the files a previous
	// render produced for the units it vouches are unchanged, by key. Nil:
	// everything is rendered.
	Reuse func(keys []string) (map[string][]Artifact, error)
	// Sink, when set, is handed every artifact as soon as its unit is
	// rendered or reused, from several goroutines at once, and
	// Result.Files stays empty: memory holds only the units in flight
	// instead of the whole output. An error from Sink ends the render.
	Sink func(Artifact) error
}

// Result is what RenderWith produced.
type Result struct {
	// Files are every artifact of the plan, sorted by path; none when
	// Options.Sink took them.
	Files []Artifact
	// Units counts the targets' and cost dashboards' units, Reused those
	// whose files came from Reuse.
	Units, Reused int
}

// Render returns every artifact of the plan, sorted by path, rendering
// each. An error is a diag.List when the decisions are at fault.
func Render(p *plan.Plan) ([]Artifact, error) {
	r, err := RenderWith(p, Options{})
	return r.Files, err
}

// RenderWith returns every artifact of the plan, sorted by path, taking
// the files of unchanged units from opts.Reuse. Rendered files carry their
// unit's key. An error is a diag.List when the decisions are at fault.
func RenderWith(p *plan.Plan, opts Options) (Result, error) {
	if diags := grafana.Collisions(p); len(diags) > 0 {
		return Result{}, diags
	}
	units := unitsOf(p, opts.Salt)
	reused := map[string][]Artifact{}
	if opts.Reuse != nil && opts.Salt != "" {
		keys := make([]string, 0, len(units))
		for _, u := range units {
			if u.key != "" {
				keys = append(keys, u.key)
			}
		}
		var err error
		if reused, err = opts.Reuse(keys); err != nil {
			return Result{}, err
		}
	}
	type result struct {
		files []Artifact
		diags diag.List
		err   error
	}
	var sinkFailed atomic.Bool
	results := parallel.Map(len(units), func(i int) result {
		if sinkFailed.Load() {
			return result{}
		}
		u := units[i]
		files, ok := reused[u.key]
		var diags diag.List
		var err error
		if !ok || u.key == "" {
			files, diags, err = u.render()
			for j := range files {
				files[j].Key = u.key
			}
		}
		if opts.Sink == nil || err != nil || len(diags) > 0 {
			return result{files, diags, err}
		}
		for _, f := range files {
			if err := opts.Sink(f); err != nil {
				sinkFailed.Store(true)
				return result{err: err}
			}
		}
		return result{}
	})
	var res Result
	var diags diag.List
	for i, r := range results {
		if r.err != nil {
			return Result{}, fmt.Errorf("render %s: %w", units[i].name, r.err)
		}
		diags = append(diags, r.diags...)
		res.Files = append(res.Files, r.files...)
		if !units[i].everyTime {
			res.Units++
			if _, ok := reused[units[i].key]; ok {
				res.Reused++
			}
		}
	}
	if len(diags) > 0 {
		return Result{}, diags.Sorted()
	}
	slices.SortFunc(res.Files, func(a, b Artifact) int { return cmp.Compare(a.Path, b.Path) })
	for i := 1; i < len(res.Files); i++ {
		if res.Files[i].Path == res.Files[i-1].Path {
			return Result{}, fmt.Errorf("internal error: two units produced %s", res.Files[i].Path)
		}
	}
	return res, nil
}

// unit is a part of the output rendered as a whole.
type unit struct {
	name string
	// key is the hash of everything render reads, or "" for a unit that
	// is rendered every time.
	key string
	// everyTime marks a unit that reads the whole plan, so it has no key.
	everyTime bool
	render    func() ([]Artifact, diag.List, error)
}

// unitsOf lists the plan's units: targets, then each environment's team
// cost dashboards and its own files. One digester walks each workload,
// environment and backend once however many targets share it.
func unitsOf(p *plan.Plan, salt string) []unit {
	std := &p.Standard
	var stdSum [32]byte
	targetSums := make([][32]byte, len(p.Targets))
	d := newDigester()
	if salt != "" {
		stdSum = d.sum(reflect.ValueOf(std))
		for i, t := range p.Targets {
			targetSums[i] = d.sum(reflect.ValueOf(t))
		}
	}
	key := func(kind string, parts ...[32]byte) string {
		if salt == "" {
			return ""
		}
		return unitKey(salt, kind, append([][32]byte{stdSum}, parts...)...)
	}
	var units []unit
	sumOf := map[*plan.Target][32]byte{}
	for i, t := range p.Targets {
		sumOf[t] = targetSums[i]
		units = append(units, unit{
			name:   t.Team.Name + "/" + t.Workload.Name + " in " + t.Env.Name,
			key:    key("target", targetSums[i]),
			render: func() ([]Artifact, diag.List, error) { return targetFiles(t, std) },
		})
	}
	for _, env := range p.Environments {
		for _, tt := range grafana.TeamsIn(p, env) {
			team, targets := tt.Team, tt.Targets
			parts := [][32]byte{}
			if salt != "" {
				parts = append(parts, d.sum(reflect.ValueOf(env)), d.sum(reflect.ValueOf(team)))
				for _, t := range targets {
					parts = append(parts, sumOf[t])
				}
			}
			units = append(units, unit{
				name:   "cost of " + team.Name + " in " + env.Name,
				key:    key("cost", parts...),
				render: func() ([]Artifact, diag.List, error) { return grafana.CostFiles(env, team, targets, std) },
			})
		}
		units = append(units, unit{
			name:      "environment " + env.Name,
			everyTime: true,
			render:    func() ([]Artifact, diag.List, error) { return environmentFiles(p, env) },
		})
	}
	return units
}

// targetFiles renders every artifact of one target, or every finding
// against it.
func targetFiles(t *plan.Target, std *plan.Standard) ([]Artifact, diag.List, error) {
	board, boardDiags, err := grafana.WorkloadFiles(t, std)
	if err != nil {
		return nil, nil, err
	}
	rules, ruleDiags, err := promrules.TargetFiles(t, std)
	if err != nil {
		return nil, nil, err
	}
	if diags := slices.Concat(boardDiags, ruleDiags); len(diags) > 0 {
		return nil, diags, nil
	}
	logs, err := lokirules.TargetFiles(t, std)
	if err != nil {
		return nil, nil, err
	}
	return slices.Concat(board, rules, logs), nil, nil
}

// environmentFiles renders what each environment has once.
func environmentFiles(p *plan.Plan, env *plan.Environment) ([]Artifact, diag.List, error) {
	files, diags, err := grafana.EnvironmentFiles(env, &p.Standard)
	if err != nil || len(diags) > 0 {
		return nil, diags, err
	}
	routes, err := promrules.EnvironmentFiles(p, env)
	if err != nil {
		return nil, nil, err
	}
	logs, err := lokirules.EnvironmentFiles(env)
	if err != nil {
		return nil, nil, err
	}
	ds, err := datasources.EnvironmentFiles(env)
	if err != nil {
		return nil, nil, err
	}
	return slices.Concat(files, routes, logs, ds), nil, nil
}
