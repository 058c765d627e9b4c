// Command rulecost reports what the rules aiobs rendered cost the systems
// that evaluate them: per environment, the Prometheus and Loki rule groups,
// recording and alerting rules, rule evaluations per minute, the series the
// recording rules write, and the samples the windowed recording rules read.
//
//	go run ./internal/synth/cmd/rulecost OUT_DIR
//
// It reads <env>/prometheus/rules/**.yaml and <env>/loki/rules/**.yaml of
// an output tree and prints a Markdown table. Series are counted exactly for
// rules that aggregate everything away (sum(...) with no by): one series
// each. A rule grouping by labels (sum by (reason) (...)) writes one series
// per value of those labels, which only the live data knows; the table
// counts it once and lists the labels.
package main

import (
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// defaultInterval is Prometheus's and Loki's global evaluation_interval
// default, used by groups without an interval.
const defaultInterval = time.Minute

type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []struct {
			Record string `yaml:"record"`
			Alert  string `yaml:"alert"`
			Expr   string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// cost sums one system's rules in one environment.
type cost struct {
	files, groups, records, alerts int
	evalsPerMin                    float64
	// series written by recording rules, counting a grouped rule once.
	series int
	// samplesPerMin read by the *_over_time functions of Prometheus
	// recording rules (sums of recorded series over long windows),
	// assuming one input series per rule.
	samplesPerMin float64
	grouped       map[string]int // "by (labels)" -> rules
}

var (
	groupingRe = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	overTimeRe = regexp.MustCompile(`_over_time\([^\[]*\[([0-9a-z]+)\]\)`)
)

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: rulecost OUT_DIR")
		return 2
	}
	root := args[0]
	costs := map[string]*cost{} // "<env> <system>"
	targets := map[string]int{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if len(parts) < 4 || parts[2] != "rules" || (parts[1] != "prometheus" && parts[1] != "loki") {
			return nil
		}
		env, system := parts[0], parts[1]
		if system == "prometheus" {
			targets[env]++
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var f ruleFile
		if err := yaml.Unmarshal(data, &f); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		key := env + " " + system
		c := costs[key]
		if c == nil {
			c = &cost{grouped: map[string]int{}}
			costs[key] = c
		}
		c.files++
		for _, g := range f.Groups {
			c.groups++
			every := defaultInterval
			if g.Interval != "" {
				d, err := model.ParseDuration(g.Interval)
				if err != nil {
					return fmt.Errorf("%s: group %s: %w", rel, g.Name, err)
				}
				every = time.Duration(d)
			}
			perMin := float64(time.Minute) / float64(every)
			for _, r := range g.Rules {
				c.evalsPerMin += perMin
				if r.Alert != "" {
					c.alerts++
					continue
				}
				c.records++
				c.series++
				if m := groupingRe.FindStringSubmatch(r.Expr); m != nil && strings.TrimSpace(m[1]) != "" {
					c.grouped["by ("+strings.TrimSpace(m[1])+")"]++
				}
				if system != "prometheus" {
					continue // LogQL's *_over_time reads log lines, not samples
				}
				for _, m := range overTimeRe.FindAllStringSubmatch(r.Expr, -1) {
					if d, err := model.ParseDuration(m[1]); err == nil {
						c.samplesPerMin += perMin * float64(time.Duration(d)/every)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(stderr, "rulecost:", err)
		return 1
	}
	keys := make([]string, 0, len(costs))
	for k := range costs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Fprintln(stdout, "| env | system | targets | files | groups | recording rules | alerts | evaluations/min | recorded series (grouped rules once) | samples read/min by *_over_time | per target: records / alerts / evals/min | grouped rules |")
	fmt.Fprintln(stdout, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
	for _, k := range keys {
		c := costs[k]
		env, system, _ := strings.Cut(k, " ")
		n := targets[env]
		var grouped []string
		for _, g := range slices.Sorted(maps.Keys(c.grouped)) {
			grouped = append(grouped, fmt.Sprintf("%d× %s", c.grouped[g], g))
		}
		per := "-"
		if n > 0 {
			per = fmt.Sprintf("%.1f / %.1f / %.1f", float64(c.records)/float64(n), float64(c.alerts)/float64(n), c.evalsPerMin/float64(n))
		}
		samples := "-"
		if system == "prometheus" {
			samples = fmt.Sprintf("%.0f", c.samplesPerMin)
		}
		fmt.Fprintf(stdout, "| %s | %s | %d | %d | %d | %d | %d | %.0f | %d | %s | %s | %s |\n",
			env, system, n, c.files, c.groups, c.records, c.alerts, c.evalsPerMin, c.series, samples, per, strings.Join(grouped, ", "))
	}
	return 0
}
