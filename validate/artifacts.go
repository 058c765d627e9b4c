package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/internal/parallel"
	"github.com/aiobs/aiobs/render/grafana"
	"github.com/aiobs/aiobs/render/promrules"
	"github.com/aiobs/aiobs/render/write"
)

// artifacts is one Check's artifact set with each artifact parsed once:
// parsing costs more than all the checks together, and several checkers
// read the same artifact (the taxonomy reads every one). Only forms that
// more than one checker reads are kept; the parse is done before any check
// runs and never changes afterwards, so checkers may read it concurrently.
type artifacts struct {
	plan  *plan.Plan
	files []artifact
	// byPath finds an artifact; the first of a repeated path wins.
	byPath map[string]int
	// ruleFileOf maps a PrometheusRule's path to its target's rule file,
	// and dashboardFiles a dashboard's file name in an environment to its
	// path: the artifacts a PrometheusRule or ConfigMap may repeat.
	ruleFileOf     map[string]string
	dashboardFiles map[envKey]string
	// workloadDashboards, costDashboards and lokiFiles find the decision
	// behind an artifact without a search of every target per artifact.
	workloadDashboards map[envKey]*plan.Target
	costDashboards     map[envKey][]*plan.Target
	lokiFiles          map[envKey]diag.Pos
	// compiled is regexp.Compile's error for each pattern compiled so
	// far: every workload's Loki rules repeat the standard's line filters.
	compiled sync.Map
}

// envKey is a name (dashboard uid, file name) within an environment.
type envKey struct{ env, name string }

// artifact is a file with the parsed forms its kind has; a path can be of
// several kinds, so more than one may be set.
type artifact struct {
	write.File
	rules *ruleParse      // <env>/prometheus/rules/<team>/<workload>.yaml
	kube  *kubeParse      // <env>/kubernetes/prometheusrules/*.yaml
	loki  *lokiParse      // <env>/loki/rules/...
	dash  *dashboardParse // **/grafana/dashboards/**.json
	doc   *yamlDoc        // dashboard ConfigMaps and datasource provisioning
}

func newArtifacts(p *plan.Plan, files []write.File) *artifacts {
	a := &artifacts{
		plan:               p,
		files:              make([]artifact, len(files)),
		byPath:             make(map[string]int, len(files)),
		ruleFileOf:         map[string]string{},
		dashboardFiles:     map[envKey]string{},
		workloadDashboards: map[envKey]*plan.Target{},
		costDashboards:     map[envKey][]*plan.Target{},
		lokiFiles:          map[envKey]diag.Pos{},
	}
	for i, f := range files {
		a.files[i].File = f
		if _, ok := a.byPath[f.Path]; !ok {
			a.byPath[f.Path] = i
		}
		if k := (envKey{envOf(f.Path), path.Base(f.Path)}); isDashboardJSON(f.Path) && a.dashboardFiles[k] == "" {
			a.dashboardFiles[k] = f.Path
		}
	}
	for _, t := range p.Targets {
		env := t.Env.Name
		if _, ok := a.ruleFileOf[promrules.KubeFilePath(t)]; !ok {
			a.ruleFileOf[promrules.KubeFilePath(t)] = promrules.RuleFilePath(t)
		}
		if k := (envKey{env, t.Workload.DashboardUID()}); a.workloadDashboards[k] == nil {
			a.workloadDashboards[k] = t
		}
		k := envKey{env, grafana.CostUID(t.Team.Name)}
		a.costDashboards[k] = append(a.costDashboards[k], t)
		a.lokiFiles[envKey{env, t.Workload.ID() + ".yaml"}] = t.Workload.Pos
	}
	// PrometheusRules reuse their rule file's parse, so they wait for a
	// second pass. Rule files cost the most and start first, so that no
	// core idles at the end of the first.
	var rules, others, kube []int
	for i, f := range files {
		switch {
		case isKubeRule(f.Path):
			kube = append(kube, i)
		case isRuleFile(f.Path):
			rules = append(rules, i)
		default:
			others = append(others, i)
		}
	}
	for _, pass := range [][]int{slices.Concat(rules, others), kube} {
		parallel.For(len(pass), func(k int) { a.parse(&a.files[pass[k]]) })
	}
	return a
}

// parse fills in the forms of every kind the artifact's path has.
func (a *artifacts) parse(f *artifact) {
	p := f.Path
	if isRuleFile(p) {
		f.rules = parseRuleFile(f.Bytes)
	}
	if isKubeRule(p) {
		f.kube = parseKubeRule(f.Bytes, a.file(a.ruleFileOf[p]))
	}
	if isLokiRules(p) {
		f.loki = parseLokiRules(f.Bytes)
	}
	if isDashboardJSON(p) {
		f.dash = parseDashboard(f.Bytes)
	}
	switch {
	case isDashboardConfigMap(p):
		f.doc = a.parseConfigMap(f)
	case isDatasourceProvisioning(p):
		f.doc = parseYAML(f.Bytes)
	}
}

// compileErr is regexp.Compile's error for pattern.
func (a *artifacts) compileErr(pattern string) error {
	if v, ok := a.compiled.Load(pattern); ok {
		err, _ := v.(error) // a nil error is stored as nil
		return err
	}
	_, err := regexp.Compile(pattern)
	a.compiled.Store(pattern, err)
	return err
}

// file is the artifact at a path, or nil.
func (a *artifacts) file(path string) *artifact {
	if i, ok := a.byPath[path]; ok {
		return &a.files[i]
	}
	return nil
}

// each runs fn on every artifact in parallel and joins the findings in
// artifact order.
func (a *artifacts) each(fn func(f *artifact) diag.List) diag.List {
	return slices.Concat(parallel.Map(len(a.files), func(i int) diag.List { return fn(&a.files[i]) })...)
}

func envOf(p string) string { return strings.SplitN(p, "/", 2)[0] }

func isDashboardJSON(p string) bool {
	return path.Ext(p) == ".json" && strings.Contains(p, "/grafana/dashboards/")
}

func isDashboardConfigMap(p string) bool {
	parts := strings.Split(p, "/")
	return len(parts) >= 3 && parts[1] == "kubernetes" && parts[2] == "grafana-dashboards" && path.Ext(p) == ".yaml"
}

func isDatasourceProvisioning(p string) bool {
	parts := strings.Split(p, "/")
	return len(parts) == 5 && parts[1] == "grafana" && parts[2] == "provisioning" && parts[3] == "datasources"
}

// The renderer composes two artifacts from another's bytes: a
// PrometheusRule's spec is its rule file indented, and a dashboard
// ConfigMap's data value is the dashboard JSON as a literal block. Where
// the nested bytes are that other artifact's, only the header needs
// parsing; anything else is parsed in full.

// splitNested splits a document written as a header mapping followed by
// "key:" on a line of its own and returns the header's parse and what
// follows the key. ok is false where the header could mean something else
// once the rest follows it: not one block mapping at the margin, or
// holding the key itself, a merge or a key the checkers read from the rest
// (groups, spec).
func splitNested(b []byte, key string) (head *yaml.Node, rest []byte, ok bool) {
	sep := []byte("\n" + key + ":\n")
	i := bytes.Index(b, sep)
	if i < 0 {
		return nil, nil, false
	}
	dec := yaml.NewDecoder(bytes.NewReader(b[:i+1]))
	var doc yaml.Node
	if dec.Decode(&doc) != nil || !errors.Is(dec.Decode(new(yaml.Node)), io.EOF) {
		return nil, nil, false
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode || m.Style&yaml.FlowStyle != 0 || m.Column != 1 {
		return nil, nil, false
	}
	for k := 0; k < len(m.Content); k += 2 {
		switch m.Content[k].Value {
		case key, "<<", "groups", "spec":
			return nil, nil, false
		}
	}
	return &doc, b[i+len(sep):], true
}

// indented says whether b is doc with every non-empty line indented by
// pad. A document marker or directive in doc would mean something else
// once indented, so it never matches.
func indented(b, doc []byte, pad string) bool {
	for line := range bytes.Lines(doc) {
		if bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("...")) || line[0] == '%' {
			return false
		}
		if string(line) != "\n" {
			if !bytes.HasPrefix(b, []byte(pad)) {
				return false
			}
			b = b[len(pad):]
		}
		if !bytes.HasPrefix(b, line) {
			return false
		}
		b = b[len(line):]
	}
	return len(b) == 0
}

// yamlDoc is the first document of a YAML artifact.
type yamlDoc struct {
	node yaml.Node
	err  error
	// repeats is set where only a ConfigMap's header was parsed: the
	// document also holds data: {<data>: <repeats' bytes>}.
	data    string
	repeats *artifact
}

func parseYAML(b []byte) *yamlDoc {
	d := &yamlDoc{}
	d.err = yaml.Unmarshal(b, &d.node)
	return d
}

// decode decodes the document into v with the result yaml.Unmarshal would
// have had on the artifact's bytes, but for the data a ConfigMap repeats.
func (d *yamlDoc) decode(v any) error {
	if d.err != nil || d.node.Kind == 0 { // 0: the bytes hold no document
		return d.err
	}
	return d.node.Decode(v)
}

// dashboardParse is a dashboard's JSON decoded once for checkDashboards
// and the taxonomy. Where the decode fails, each decodes for itself, so
// that it reports or skips exactly what it would alone.
type dashboardParse struct {
	dashboardJSON
	Title string   `json:"title"` // read by the taxonomy only
	Tags  []string `json:"tags"`
	err   error
}

func parseDashboard(b []byte) *dashboardParse {
	p := &dashboardParse{}
	p.err = json.Unmarshal(b, p)
	return p
}
