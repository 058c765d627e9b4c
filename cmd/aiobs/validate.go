package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render"
	"github.com/aiobs/aiobs/render/write"
	"github.com/aiobs/aiobs/validate"
	"github.com/aiobs/aiobs/validate/live"
)

// Flags of the optional live check against a running Grafana.
const (
	flagGrafanaURL     = "grafana-url"
	flagGrafanaTimeout = "grafana-timeout"
	flagEnv            = "env"
)

// envGrafanaToken names the variable holding the Grafana token; a flag
// would put the secret in shell history and process listings.
const envGrafanaToken = "AIOBS_GRAFANA_TOKEN"

type validateFlags struct {
	decisions string
	out       string
	format    string

	fresh          bool
	grafanaURL     string
	grafanaTimeout time.Duration
	env            string
}

func newValidateCmd() *cobra.Command {
	var f validateFlags
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Prove the output binds and parses, and is up to date",
		Long: `validate compiles the decisions, renders them in memory and runs every check
in one pass: datasource bindings, rule files through Prometheus's rulefmt and
PromQL parser, Loki rule structure and RE2 patterns, the label taxonomy,
metric names against the backend catalogues, and whether the output
directory holds exactly what a fresh render would write. It reports all
findings, not just the first, and writes nothing to the output.

Like render, validate reuses the files of unchanged units instead of
rendering them again. When this same binary already found nothing wrong
with the same decisions and output, it says so without running the checks
again ("(cached)", as go test does); --fresh runs them anyway. The live
check is never cached.

Formats: text (default), json, and github (GitHub Actions annotations on the
decision file and line).

With --grafana-url, validate also asks that Grafana whether every datasource
uid an environment binds exists there with the bound plugin type
(DATASOURCE_MISSING, DATASOURCE_TYPE_MISMATCH). The token is read from
AIOBS_GRAFANA_TOKEN and needs datasources:read. The environments checked are
--env if given, else the only environment, else those whose grafanaURL has
the same scheme and host as --grafana-url; if none match, --env is
required. A Grafana that cannot be reached within --grafana-timeout, or
that refuses the token, exits 3: nothing could be checked.

` + exitCodesHelp,
		Example: `  aiobs validate
  aiobs validate --decisions decisions --out generated --format github
  AIOBS_GRAFANA_TOKEN=glsa_... aiobs validate --grafana-url https://grafana.example.com --env prod`,
		Args: maxArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return runValidate(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.decisions, flagDecisions, ".", "directory of .cue decision files")
	fl.StringVar(&f.out, flagOut, "./out", "output directory to check for staleness")
	fl.StringVar(&f.format, flagFormat, diag.FormatText, "findings format: text, json or github")
	fl.BoolVar(&f.fresh, "fresh", false, "run every check even when this binary already passed the same decisions and output")
	fl.StringVar(&f.grafanaURL, flagGrafanaURL, "", "also check the datasource bindings against this running Grafana (token from $"+envGrafanaToken+")")
	fl.DurationVar(&f.grafanaTimeout, flagGrafanaTimeout, 10*time.Second, "how long the live check may wait for Grafana")
	fl.StringVar(&f.env, flagEnv, "", "environment to check against --grafana-url (default: the one whose grafanaURL matches)")
	return cmd
}

func runValidate(cmd *cobra.Command, f validateFlags) error {
	if !slices.Contains(diag.Formats, f.format) {
		return usageError("--format %q: want one of text, json, github", f.format)
	}
	if err := checkLiveFlags(f); err != nil {
		return err
	}
	var findings diag.List
	p, err := compileDecisions(cmd.Context(), f.decisions, 0)
	if l, ok := err.(diag.List); ok {
		findings = l
	} else if err != nil {
		return err
	}
	var files int
	var cached bool
	if p != nil {
		var checked diag.List
		checked, files, cached, err = checkOutput(p, f)
		if err != nil {
			return err
		}
		findings = append(findings, checked...)
		if f.grafanaURL != "" {
			l, err := checkLive(cmd.Context(), f, p)
			if err != nil {
				return err
			}
			findings = append(findings, l...)
		}
	}
	findings = findings.Sorted()
	if f.format == diag.FormatJSON || len(findings) > 0 {
		if err := diag.Print(cmd.OutOrStdout(), findings, f.format); err != nil {
			return err
		}
	}
	if findings.HasErrors() {
		return printed(exitFindings)
	}
	if f.format == diag.FormatText {
		note := ""
		if cached {
			note = " (cached)"
		}
		fmt.Fprintf(cmd.OutOrStdout(), "ok: %d artifacts valid and up to date%s\n", files, note)
	}
	return nil
}

// checkOutput renders the plan, reusing the unchanged units of the output
// directory, and returns the findings of every check, staleness included,
// and how many artifacts it checked. A plan and output that passed every
// check before, with this same binary, pass again without the checks
// running (cached is true then): the fingerprint covers all the checks read.
func checkOutput(p *plan.Plan, f validateFlags) (findings diag.List, files int, cached bool, err error) {
	cache := cacheDir()
	s, err := write.Inspect(f.out, write.Options{CacheDir: cache})
	if err != nil {
		return nil, 0, false, err
	}
	defer s.Close()
	salt := renderSalt()
	r, err := render.RenderWith(p, render.Options{Salt: salt, Reuse: s.Reusable})
	if err != nil {
		return nil, 0, false, err
	}
	if err := s.PutAll(r.Files); err != nil {
		return nil, 0, false, err
	}
	stale, err := s.Changed()
	if err != nil {
		return nil, 0, false, err
	}
	for _, path := range stale {
		findings = append(findings, diag.Diagnostic{Rule: "OUTPUT_STALE", Severity: diag.Error, Artifact: path,
			Msg: fmt.Sprintf("differs from a fresh render of %s; run 'aiobs render'", f.decisions)})
	}
	// One stamp per output directory, holding the fingerprint of the last
	// clean validation of it, so the cache does not grow with every edit.
	stamp, fingerprint := "", ""
	if abs, err := filepath.Abs(f.out); err == nil && cache != "" && salt != "" && len(stale) == 0 && !f.fresh {
		sum := sha256.Sum256([]byte(abs))
		stamp = filepath.Join(cache, "validated-"+hex.EncodeToString(sum[:16]))
		fingerprint = render.Fingerprint(salt, p, r.Files)
		if last, err := os.ReadFile(stamp); err == nil && string(last) == fingerprint {
			return nil, len(r.Files), true, nil
		}
	}
	if err := s.Load(r.Files); err != nil {
		return nil, 0, false, err
	}
	findings = append(findings, validate.Check(p, r.Files)...)
	if stamp != "" && len(findings) == 0 {
		// Best effort, like every cache write: a missing stamp only costs the
		// next run the checks.
		if os.MkdirAll(cache, 0o755) == nil {
			os.WriteFile(stamp, []byte(fingerprint), 0o644)
		}
	}
	return findings, len(r.Files), false, nil
}

// checkLiveFlags rejects live-check flags that cannot work before anything
// is compiled.
func checkLiveFlags(f validateFlags) error {
	if f.grafanaURL == "" {
		if f.env != "" {
			return usageError("--%s needs --%s", flagEnv, flagGrafanaURL)
		}
		return nil
	}
	u, err := url.Parse(f.grafanaURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError("--%s %q: want an http or https URL", flagGrafanaURL, f.grafanaURL)
	}
	if f.grafanaTimeout <= 0 {
		return usageError("--%s %s: want a positive duration", flagGrafanaTimeout, f.grafanaTimeout)
	}
	return nil
}

// checkLive runs the live check for the environments --env and
// --grafana-url select. Its errors exit 3: the decisions may be fine, but
// the Grafana could not be asked.
func checkLive(ctx context.Context, f validateFlags, p *plan.Plan) (diag.List, error) {
	envs, err := liveEnvs(f, p)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.grafanaTimeout)
	defer cancel()
	l, err := live.Check(ctx, &http.Client{}, f.grafanaURL, os.Getenv(envGrafanaToken), envs)
	if err != nil {
		return nil, &exitError{code: exitEnvironment, err: err}
	}
	return l, nil
}

// liveEnvs picks the environments to check: --env, else the only one,
// else those whose grafanaURL has --grafana-url's origin. One Grafana
// rarely serves several environments, so checking all of them against it
// would only report every other environment's datasources as missing.
func liveEnvs(f validateFlags, p *plan.Plan) ([]*plan.Environment, error) {
	if f.env != "" {
		if e := p.Environment(f.env); e != nil {
			return []*plan.Environment{e}, nil
		}
		return nil, usageError("--%s %q: no such environment (have %s)", flagEnv, f.env, envNames(p.Environments))
	}
	if len(p.Environments) == 1 {
		return p.Environments, nil
	}
	var match []*plan.Environment
	for _, e := range p.Environments {
		if e.GrafanaURL != "" && origin(e.GrafanaURL) == origin(f.grafanaURL) {
			match = append(match, e)
		}
	}
	if len(match) == 0 {
		return nil, usageError("--%s is required: no environment's grafanaURL matches %s (have %s)", flagEnv, origin(f.grafanaURL), envNames(p.Environments))
	}
	return match, nil
}

// origin is a URL's lowercased scheme and host, so a path or trailing slash
// does not stop a match.
func origin(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

func envNames(envs []*plan.Environment) string {
	names := make([]string, len(envs))
	for i, e := range envs {
		names[i] = e.Name
	}
	return strings.Join(names, ", ")
}
