package main

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/render/write"
	"github.com/aiobs/aiobs/validate"
)

type validateFlags struct {
	decisions string
	out       string
	format    string
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
findings, not just the first, and writes nothing.

Formats: text (default), json, and github (GitHub Actions annotations on the
decision file and line).

` + exitCodesHelp,
		Example: `  aiobs validate
  aiobs validate --decisions decisions --out generated --format github`,
		Args: maxArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return runValidate(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.decisions, flagDecisions, ".", "directory of .cue decision files")
	fl.StringVar(&f.out, flagOut, "./out", "output directory to check for staleness")
	fl.StringVar(&f.format, flagFormat, diag.FormatText, "findings format: text, json or github")
	return cmd
}

func runValidate(cmd *cobra.Command, f validateFlags) error {
	if !slices.Contains(diag.Formats, f.format) {
		return usageError("--format %q: want one of text, json, github", f.format)
	}
	var findings diag.List
	p, files, err := compileAndRender(cmd.Context(), f.decisions)
	if l, ok := err.(diag.List); ok {
		findings = l
	} else if err != nil {
		return err
	} else {
		findings = validate.Check(p, files)
		stale, err := write.Check(f.out, files)
		if err != nil {
			return err
		}
		for _, path := range stale {
			findings = append(findings, diag.Diagnostic{Rule: "OUTPUT_STALE", Severity: diag.Error, Artifact: path,
				Msg: fmt.Sprintf("differs from a fresh render of %s; run 'aiobs render'", f.decisions)})
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
		fmt.Fprintf(cmd.OutOrStdout(), "ok: %d artifacts valid and up to date\n", len(files))
	}
	return nil
}
