package smoke

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"
)

// evalInterval is the scrape and rule evaluation interval of a smoke run.
const evalInterval = "1s"

type promConfig struct {
	Global        promGlobal     `yaml:"global"`
	RuleFiles     []string       `yaml:"rule_files,omitempty"`
	ScrapeConfigs []scrapeConfig `yaml:"scrape_configs"`
}

type promGlobal struct {
	ScrapeInterval     string `yaml:"scrape_interval"`
	ScrapeTimeout      string `yaml:"scrape_timeout"`
	EvaluationInterval string `yaml:"evaluation_interval"`
}

type scrapeConfig struct {
	JobName       string         `yaml:"job_name"`
	HonorLabels   bool           `yaml:"honor_labels"`
	StaticConfigs []staticConfig `yaml:"static_configs"`
}

type staticConfig struct {
	Targets []string          `yaml:"targets"`
	Labels  map[string]string `yaml:"labels"`
}

// config is the prometheus.yml of a smoke run: every endpoint of the
// exporter as a target of its job, with its target labels and its path in
// __metrics_path__, and the rule files.
func config(addr string, endpoints []*endpoint, ruleFiles []string) ([]byte, error) {
	c := promConfig{
		Global:    promGlobal{ScrapeInterval: evalInterval, ScrapeTimeout: evalInterval, EvaluationInterval: evalInterval},
		RuleFiles: ruleFiles,
	}
	for _, job := range []struct {
		name  string
		honor bool
	}{{jobServing, false}, {jobDCGMRenamed, false}, {jobDCGMHonored, true}, {jobQuality, true}} {
		sc := scrapeConfig{JobName: job.name, HonorLabels: job.honor}
		for _, ep := range endpoints {
			if ep.job != job.name {
				continue
			}
			labels := map[string]string{"__metrics_path__": ep.path}
			for k, v := range ep.labels {
				labels[k] = v
			}
			sc.StaticConfigs = append(sc.StaticConfigs, staticConfig{Targets: []string{addr}, Labels: labels})
		}
		if len(sc.StaticConfigs) > 0 {
			c.ScrapeConfigs = append(c.ScrapeConfigs, sc)
		}
	}
	b, err := yaml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("write prometheus.yml: %w", err)
	}
	return b, nil
}

// fastRules sets every group's evaluation interval of a rule file to the
// smoke run's. The SLO groups evaluate every 5m, and Prometheus would
// evaluate each first at an offset of up to 5m (hashed from the group's
// name), after a smoke run ends. Only the cadence changes: every record,
// expression and label is loaded as rendered.
func fastRules(src []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("read rule file: %w", err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("rule file is not a mapping")
	}
	groups := mapValue(doc.Content[0], "groups")
	if groups == nil || groups.Kind != yaml.SequenceNode {
		return nil, errors.New("rule file has no groups")
	}
	for _, g := range groups.Content {
		if g.Kind != yaml.MappingNode {
			return nil, errors.New("rule group is not a mapping")
		}
		if v := mapValue(g, "interval"); v != nil {
			v.Value = evalInterval
			continue
		}
		g.Content = append(g.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Value: "interval"},
			&yaml.Node{Kind: yaml.ScalarNode, Value: evalInterval})
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("write rule file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write rule file: %w", err)
	}
	return b.Bytes(), nil
}

// mapValue is the value of a key of a YAML mapping, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// promServer is a running prometheus process.
type promServer struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string
	api  *promAPI
}

// startPrometheus starts the binary on a free loopback port with its TSDB
// and log under dir and waits until it is ready. A port taken between
// choosing and binding it is retried.
func startPrometheus(ctx context.Context, bin, cfgFile, dir string) (*promServer, error) {
	var err error
	for range 3 {
		var s *promServer
		s, err = tryStart(ctx, bin, cfgFile, dir)
		if err == nil {
			return s, nil
		}
		if !strings.Contains(err.Error(), "address already in use") {
			return nil, err
		}
	}
	return nil, err
}

func tryStart(ctx context.Context, bin, cfgFile, dir string) (*promServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logFile := filepath.Join(dir, "prometheus.log")
	lf, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	cmd := exec.CommandContext(ctx, bin,
		"--config.file="+cfgFile,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start prometheus: %w", err)
	}
	s := &promServer{cmd: cmd, done: make(chan struct{}), log: logFile, api: newAPI("http://" + addr)}
	go func() { _ = cmd.Wait(); close(s.done) }()
	deadline := time.After(30 * time.Second)
	for {
		if s.api.ready(ctx) {
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("prometheus exited before it was ready\n%s", s.logTail())
		case <-deadline:
			s.stop()
			return nil, fmt.Errorf("prometheus not ready after 30s\n%s", s.logTail())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// stop ends the server: SIGTERM, then SIGKILL after five seconds.
func (s *promServer) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// logTail is the end of the server's log, for error messages.
func (s *promServer) logTail() string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return ""
	}
	const max = 4000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return "prometheus log:\n" + string(b)
}

// promAPI is a client of Prometheus's HTTP API.
type promAPI struct {
	base   string
	client *http.Client
}

func newAPI(base string) *promAPI {
	return &promAPI{base: base, client: &http.Client{Timeout: 10 * time.Second}}
}

func (a *promAPI) ready(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/-/ready", nil)
	if err != nil {
		return false
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// refused is Prometheus's answer to a query it cannot run.
type refused struct{ msg string }

func (r refused) Error() string { return r.msg }

// answer is what one instant query returned.
type answer struct {
	// Samples counts the returned samples and NaN those that are NaN.
	Samples, NaN int
}

// hasData reports whether the answer holds a number a panel would show.
func (a answer) hasData() bool { return a.Samples > a.NaN }

// querier runs an instant query at the current time.
type querier interface {
	query(ctx context.Context, expr string) (answer, error)
}

type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

func (a *promAPI) call(ctx context.Context, method, path string, form url.Values) (json.RawMessage, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", path, err)
	}
	defer resp.Body.Close()
	var r apiResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("prometheus %s: HTTP %d: unreadable answer: %w", path, resp.StatusCode, err)
	}
	if r.Status != "success" {
		if r.ErrorType == "bad_data" || r.ErrorType == "execution" {
			return nil, refused{r.ErrorType + ": " + r.Error}
		}
		return nil, fmt.Errorf("prometheus %s: %s: %s", path, r.ErrorType, r.Error)
	}
	return r.Data, nil
}

func (a *promAPI) query(ctx context.Context, expr string) (answer, error) {
	data, err := a.call(ctx, http.MethodPost, "/api/v1/query", url.Values{"query": {expr}})
	if err != nil {
		return answer{}, err
	}
	var d struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return answer{}, fmt.Errorf("prometheus query: %w", err)
	}
	var values [][2]any
	switch d.ResultType {
	case "vector":
		var v []struct {
			Value [2]any `json:"value"`
		}
		if err := json.Unmarshal(d.Result, &v); err != nil {
			return answer{}, fmt.Errorf("prometheus query: %w", err)
		}
		for _, s := range v {
			values = append(values, s.Value)
		}
	case "scalar":
		var v [2]any
		if err := json.Unmarshal(d.Result, &v); err != nil {
			return answer{}, fmt.Errorf("prometheus query: %w", err)
		}
		values = append(values, v)
	default:
		return answer{}, fmt.Errorf("prometheus query: unexpected result type %q", d.ResultType)
	}
	var out answer
	for _, v := range values {
		out.Samples++
		s, _ := v[1].(string)
		if f, err := strconv.ParseFloat(s, 64); err != nil || math.IsNaN(f) {
			out.NaN++
		}
	}
	return out, nil
}

// ruleErrors lists the rules whose last evaluation failed.
func (a *promAPI) ruleErrors(ctx context.Context) ([]string, error) {
	data, err := a.call(ctx, http.MethodGet, "/api/v1/rules", nil)
	if err != nil {
		return nil, err
	}
	var d struct {
		Groups []struct {
			Name  string `json:"name"`
			File  string `json:"file"`
			Rules []struct {
				Name      string `json:"name"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("prometheus rules: %w", err)
	}
	var out []string
	for _, g := range d.Groups {
		for _, r := range g.Rules {
			if r.Health == "err" {
				out = append(out, fmt.Sprintf("%s: group %s: %s: %s", filepath.Base(filepath.Dir(g.File))+"/"+filepath.Base(g.File), g.Name, r.Name, r.LastError))
			}
		}
	}
	if len(d.Groups) == 0 {
		out = append(out, "no rule group loaded")
	}
	slices.Sort(out)
	return out, nil
}

// targetErrors lists the scrapes that failed.
func (a *promAPI) targetErrors(ctx context.Context) ([]string, error) {
	data, err := a.call(ctx, http.MethodGet, "/api/v1/targets", nil)
	if err != nil {
		return nil, err
	}
	var d struct {
		ActiveTargets []struct {
			ScrapeURL string `json:"scrapeUrl"`
			Health    string `json:"health"`
			LastError string `json:"lastError"`
		} `json:"activeTargets"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("prometheus targets: %w", err)
	}
	var out []string
	for _, t := range d.ActiveTargets {
		if t.Health == "down" {
			out = append(out, t.ScrapeURL+": "+t.LastError)
		}
	}
	slices.Sort(out)
	return out, nil
}

// alert is an active alert.
type alert struct {
	name, state string
	labels      map[string]string
}

func (a alert) String() string {
	var ls []string
	for _, k := range slices.Sorted(maps.Keys(a.labels)) {
		if k != "alertname" {
			ls = append(ls, k+"="+a.labels[k])
		}
	}
	return fmt.Sprintf("%s (%s) {%s}", a.name, a.state, strings.Join(ls, ", "))
}

// activeAlerts lists the alerts pending or firing.
func (a *promAPI) activeAlerts(ctx context.Context) ([]alert, error) {
	data, err := a.call(ctx, http.MethodGet, "/api/v1/alerts", nil)
	if err != nil {
		return nil, err
	}
	var d struct {
		Alerts []struct {
			Labels map[string]string `json:"labels"`
			State  string            `json:"state"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("prometheus alerts: %w", err)
	}
	var out []alert
	for _, al := range d.Alerts {
		out = append(out, alert{name: al.Labels["alertname"], state: al.State, labels: al.Labels})
	}
	slices.SortFunc(out, func(x, y alert) int { return strings.Compare(x.String(), y.String()) })
	return out, nil
}
