// Package synth generates synthetic decision repositories of any size, for
// benchmarks and scale tests: N teams × M workloads, every workload in the
// three environments dev, staging and prod, mixing the backends of the
// standard (vLLM, SGLang, TGI, Triton, llama.cpp, the gateway and the
// OpenTelemetry GenAI conventions), availability and latency SLOs, GPU-hour
// and per-token costs, agent flags, selectors and a few organisation log
// rules.
//
// The output is a repository as a platform team would write it: one file of
// environments, one file of log rules and one file per team. It depends only
// on Options: the same options give the same bytes on every machine and Go
// version (the generator is a fixed splitmix64, not math/rand).
//
// synth knows the standard only through the values it writes; a test
// compiles what it writes, so a change to the standard that invalidates the
// generator fails there.
package synth

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// WorkloadsPerTeam is the team size ForWorkloads uses.
const WorkloadsPerTeam = 20

// Options size and seed a repository.
type Options struct {
	// Teams is the number of team files.
	Teams int
	// WorkloadsPerTeam is the number of workloads of every team but the
	// last, which holds the remainder when Workloads is set.
	WorkloadsPerTeam int
	// Workloads, when positive, caps the total: the last team gets what
	// is left.
	Workloads int
	// Seed picks the mix; zero is a valid seed.
	Seed uint64
}

// ForWorkloads sizes a repository of n workloads in teams of
// WorkloadsPerTeam (the last team smaller when n is not a multiple).
func ForWorkloads(n int, seed uint64) Options {
	per := min(n, WorkloadsPerTeam)
	if per == 0 {
		return Options{Seed: seed}
	}
	return Options{Teams: (n + per - 1) / per, WorkloadsPerTeam: per, Workloads: n, Seed: seed}
}

// File is one generated decision file.
type File struct {
	// Name is the file name inside the decisions directory.
	Name string
	Data []byte
}

// Environments are the environments every generated workload runs in.
var Environments = []string{"dev", "staging", "prod"}

// Generate returns the repository's files, sorted by name.
func Generate(o Options) []File {
	files := []File{
		{Name: "environments.cue", Data: []byte(environmentsFile)},
		{Name: "logs.cue", Data: []byte(logsFile)},
	}
	left := o.Workloads
	for i := range o.Teams {
		n := o.WorkloadsPerTeam
		if o.Workloads > 0 {
			n = min(n, left)
			left -= n
		}
		if n <= 0 {
			break
		}
		name := teamName(i)
		g := rng{state: o.Seed ^ uint64(i+1)*0x9e3779b97f4a7c15}
		files = append(files, File{Name: "team-" + name + ".cue", Data: team(&g, name, n)})
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	return files
}

// Write generates the repository into dir, which it creates; existing
// files of the same names are replaced, others are left alone.
func Write(dir string, o Options) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range Generate(o) {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// rng is splitmix64: tiny, fast and fixed forever, unlike math/rand's
// streams.
type rng struct{ state uint64 }

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

var teamWords = []string{
	"assistants", "search", "ads", "support", "payments", "risk", "growth", "maps", "media", "docs",
	"mail", "voice", "vision", "code", "security", "legal", "finance", "travel", "health", "retail",
	"games", "music", "news", "photos", "shopping", "translate", "weather", "sports", "jobs", "learning",
}

var workloadWords = []string{
	"chat", "agent", "summarizer", "ranker", "embedder", "classifier", "moderator", "translator",
	"coder", "rag", "extractor", "router", "tagger", "captioner", "planner", "reviewer", "qa", "rewriter",
}

// teamName is unique per index and a valid #Name.
func teamName(i int) string {
	return fmt.Sprintf("%s-%02d", teamWords[i%len(teamWords)], i/len(teamWords)+1)
}

// backend is what the generator needs to know of a catalogue: models, and
// the latency stages whose histogram has listed buckets, with thresholds
// that are bucket boundaries.
type backend struct {
	name    string
	weight  int
	models  []string
	latency map[string][]string // stage -> valid "under" values
	tokens  bool                // priced per token (a hosted API)
}

// backends mirrors standards/backends/*.cue. The weights make self-hosted
// vLLM the common case, as it is in practice.
var backends = []backend{
	{name: "vllm", weight: 8, models: []string{"llama-3.1-8b-instruct", "llama-3.1-70b-instruct", "qwen2.5-7b-instruct", "mistral-7b-instruct"},
		latency: map[string][]string{"ttft": {"500ms", "1s", "2500ms"}, "itl": {"50ms", "100ms"}, "e2e": {"5s", "10s", "20s"}, "queue": {"1s", "5s"}}},
	{name: "sglang", weight: 4, models: []string{"qwen2.5-32b-instruct", "deepseek-v3", "llama-3.3-70b-instruct"},
		latency: map[string][]string{"ttft": {"1s", "2s"}, "itl": {"20ms", "100ms"}, "e2e": {"10s", "20s"}}},
	{name: "tgi", weight: 2, models: []string{"gemma-2-9b-it", "falcon-7b-instruct"}},
	{name: "triton", weight: 2, models: []string{"ranker-trtllm", "embedder-trtllm", "llama-3-8b-trtllm"}},
	// llama.cpp counts no requests or errors, and every workload has an
	// availability SLO (99.5 by default), so render refuses a llama.cpp
	// workload (SLO_UNRENDERABLE). Weight 0 until the standard lets a
	// workload go without one.
	{name: "llamacpp", weight: 0, models: []string{"phi-3-mini-q4", "llama-3.2-3b-q8"}},
	{name: "gateway", weight: 2, tokens: true, models: []string{"gpt-4o-mini", "claude-3-5-haiku", "mistral-small"},
		latency: map[string][]string{"ttft": {"500ms", "1s"}, "e2e": {"5s", "10s"}}},
	{name: "otel-genai", weight: 1, models: []string{"gpt-4o", "gemini-1.5-flash"},
		latency: map[string][]string{"ttft": {"500ms", "1s"}, "itl": {"100ms"}, "e2e": {"5120ms", "10240ms"}}},
}

func pickBackend(r *rng) backend {
	total := 0
	for _, b := range backends {
		total += b.weight
	}
	n := r.intn(total)
	for _, b := range backends {
		if n < b.weight {
			return b
		}
		n -= b.weight
	}
	panic("unreachable")
}

// latencyStages in a fixed order, since maps have none.
var latencyStages = []string{"ttft", "itl", "e2e", "queue"}

var (
	availabilities = []string{"99", "99.5", "99.5", "99.9"}
	objectives     = []string{"95", "99", "99"}
	periods        = []string{"", "", "", "28d"}
	gpuPrices      = []string{"1.20", "2.10", "3.85", "4.50"}
)

func team(r *rng, name string, workloads int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "package decisions\n\n// Team %s: %d synthetic workloads.\nteams: %q: {\n", name, workloads, name)
	fmt.Fprintf(&b, "\toncall: %q\n", name+"-pager")
	if r.intn(2) == 0 {
		fmt.Fprintf(&b, "\tchat:   %q\n", name+"-slack")
	}
	b.WriteString("\tworkloads: {\n")
	for j := range workloads {
		workload(&b, r, name, fmt.Sprintf("%s-%02d", workloadWords[j%len(workloadWords)], j/len(workloadWords)+1))
	}
	b.WriteString("\t}\n}\n")
	return []byte(b.String())
}

func workload(b *strings.Builder, r *rng, team, name string) {
	be := pickBackend(r)
	fmt.Fprintf(b, "\t\t%q: {\n", name)
	fmt.Fprintf(b, "\t\t\tbackend: %q\n", be.name)
	fmt.Fprintf(b, "\t\t\tmodel:   %q\n", pick(r, be.models))
	if r.intn(5) == 0 {
		// Spelled out now and then; all three environments either way.
		b.WriteString("\t\t\tenvironments: [\"dev\", \"staging\", \"prod\"]\n")
	}
	b.WriteString("\t\t\tslo: {\n")
	fmt.Fprintf(b, "\t\t\t\tavailability: %s\n", pick(r, availabilities))
	if p := pick(r, periods); p != "" {
		fmt.Fprintf(b, "\t\t\t\tperiod:       %q\n", p)
	}
	for _, stage := range latencyStages {
		unders := be.latency[stage]
		if len(unders) == 0 || r.intn(3) != 0 {
			continue
		}
		fmt.Fprintf(b, "\t\t\t\t%s: {under: %q, objective: %s}\n", stage, pick(r, unders), pick(r, objectives))
	}
	b.WriteString("\t\t\t}\n")
	switch {
	case be.tokens:
		fmt.Fprintf(b, "\t\t\tcost: {inputPerMTokUSD: 0.%02d, outputPerMTokUSD: 0.%02d}\n", 10+r.intn(40), 50+r.intn(49))
	case r.intn(6) != 0:
		fmt.Fprintf(b, "\t\t\tcost: {gpuHourUSD: %s, gpus: %d}\n", pick(r, gpuPrices), 1<<r.intn(4))
	}
	if r.intn(4) == 0 {
		b.WriteString("\t\t\tagent: true\n")
	}
	fmt.Fprintf(b, "\t\t\tselector: job: %q\n", team+"-"+name)
	b.WriteString("\t\t}\n")
}

const environmentsFile = `package decisions

// Three environments, each with its own Grafana datasources. Alerts page
// only in production.
environments: {
	dev: {
		datasources: {metrics: "mimir-dev", logs: "loki-dev", traces: "tempo-dev"}
		labels: cluster: "dev-eu-1"
		paging:     false
		grafanaURL: "https://grafana.dev.example.com"
		loki: tenant: "ai-dev"
	}
	staging: {
		datasources: {metrics: "mimir-staging", logs: "loki-staging", traces: "tempo-staging"}
		labels: cluster: "staging-eu-1"
		paging:     false
		grafanaURL: "https://grafana.staging.example.com"
		loki: tenant: "ai-staging"
	}
	prod: {
		datasources: {metrics: "mimir-prod", logs: "loki-prod", traces: "tempo-prod"}
		labels: cluster: "prod-eu-1"
		grafanaURL: "https://grafana.example.com"
		loki: {tenant: "ai-prod", raw: {tenant: "ai-prod-raw", retentionHours: 48}}
	}
}
`

const logsFile = `package decisions

// The organisation tunes two of the standard's log rules and adds one alert
// and one log-derived metric of its own.
logs: {
	alerts: {
		RetryStorm: {threshold: 5, for: "15m"}
		PiiEmailInLogs: notMatches: ["@example\\.com"]
		GatewayPanics: {
			class: "infra", severity: "page"
			contains: ["panic:"]
			title:       "Gateway panics"
			description: "The gateway crashed; in-flight requests were lost."
		}
	}
	metrics: slowRequests: {
		record: "aiobs:slow_requests:rate5m"
		parser: "json"
		where: [{field: "latency_ms", op: ">", value: 2000}]
		aggregate: "rate"
		by: ["route"]
	}
}
`
