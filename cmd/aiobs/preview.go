package main

import (
	"fmt"
	"path"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aiobs/aiobs/render/preview"
	"github.com/aiobs/aiobs/render/write"
)

type previewFlags struct {
	decisions string
	out       string
	env       string
}

func newPreviewCmd() *cobra.Command {
	var f previewFlags
	cmd := &cobra.Command{
		Use:   "preview",
		Short: "Draw each dashboard's layout as SVG",
		Long: `preview renders the decisions in memory and draws every dashboard of one
environment as an SVG picture of its layout: rows, panels, titles, panel
types and sizes on Grafana's 24-column grid. Commit the pictures or attach
them to a pull request so reviewers see a dashboard change without Grafana.
The output directory is managed like render's: written atomically, only
files aiobs wrote are replaced or pruned.

` + exitCodesHelp,
		Example: `  aiobs preview --env prod --out previews
  aiobs preview --decisions decisions --env staging --out previews/staging`,
		Args: maxArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return runPreview(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.decisions, flagDecisions, ".", "directory of .cue decision files")
	fl.StringVar(&f.out, flagOut, "./previews", "directory for the SVG files")
	fl.StringVar(&f.env, "env", "", "environment to draw (default: the first in name order)")
	return cmd
}

func runPreview(cmd *cobra.Command, f previewFlags) error {
	p, files, err := compileAndRender(cmd.Context(), f.decisions)
	if err != nil {
		return err
	}
	env := f.env
	if env == "" && len(p.Environments) > 0 {
		env = p.Environments[0].Name
	}
	if p.Environment(env) == nil {
		var names []string
		for _, e := range p.Environments {
			names = append(names, e.Name)
		}
		return usageError("--env %q: want one of %s", env, strings.Join(names, ", "))
	}
	prefix := env + "/grafana/dashboards/"
	var svgs []write.File
	for _, a := range files {
		if !strings.HasPrefix(a.Path, prefix) || path.Ext(a.Path) != ".json" {
			continue
		}
		svg, err := preview.SVG(a.Bytes)
		if err != nil {
			return fmt.Errorf("%s: %w", a.Path, err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(a.Path, prefix), ".json") + ".svg"
		svgs = append(svgs, write.File{Path: name, Bytes: svg})
	}
	if _, err := write.Apply(f.out, svgs, write.Options{Version: moduleVersion()}); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "drew %d dashboards of %s into %s\n", len(svgs), env, f.out)
	return nil
}
