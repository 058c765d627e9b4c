package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/aiobs/aiobs/validate/slotest"
)

type testFlags struct {
	decisions  string
	allTargets bool
	scenarios  []string
}

func newTestCmd() *cobra.Command {
	var f testFlags
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Prove the SLO alerts fire and stay quiet when they should",
		Long: `test renders the decisions in memory and replays canonical scenarios
through Prometheus's own rules engine against every SLO's rendered rule
group: three days of healthy traffic first, then a 100% outage (pages within
the theoretical time plus one evaluation interval), a burn just above the
fastest tier (pages in time), a 2x burn (notifies, never pages), recovery
(the alert resolves within about one short window), a single failure at very
low traffic (does not page) and an error counter that appears only at the
first error (still detected). SLOs with the same shape are simulated once
unless --all-targets is given. It prints the results as a Markdown table.

` + exitCodesHelp,
		Example: `  aiobs test --decisions decisions
  aiobs test --scenario outage,slow-burn`,
		Args: maxArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return runTest(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.decisions, flagDecisions, ".", "directory of .cue decision files")
	fl.BoolVar(&f.allTargets, "all-targets", false, "simulate every target instead of one per SLO shape")
	fl.StringSliceVar(&f.scenarios, "scenario", nil, "run only these scenarios")
	return cmd
}

func runTest(cmd *cobra.Command, f testFlags) error {
	p, files, err := compileAndRender(cmd.Context(), f.decisions)
	if err != nil {
		return err
	}
	rs, err := slotest.Run(cmd.Context(), p, files, slotest.Options{AllTargets: f.allTargets, Scenarios: f.scenarios})
	if err != nil {
		return err
	}
	if _, err := io.WriteString(cmd.OutOrStdout(), slotest.Markdown(rs)); err != nil {
		return err
	}
	if failed := slotest.Failed(rs); len(failed) > 0 {
		return &exitError{code: exitFindings, err: fmt.Errorf("%d of %d scenarios failed", len(failed), len(rs))}
	}
	return nil
}
