package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aiobs/aiobs/compile/diag"
)

// Exit codes, documented in every command's help and in README.
const (
	exitOK          = 0
	exitFindings    = 1 // findings, bad input, stale output
	exitUsage       = 2 // wrong flags or arguments
	exitEnvironment = 3 // the machine lacks something (no DCGM, no GPU)
)

const exitCodesHelp = `Exit codes:
  0  success
  1  findings, bad decisions, or stale output
  2  usage error
  3  environment problem (no DCGM or NVML library, unreachable Grafana)`

// Flag names are stable API: scripts and CI jobs call them.
const (
	flagDecisions = "decisions"
	flagOut       = "out"
	flagFormat    = "format"
	flagCheck     = "check"
	flagDiff      = "diff"
)

// exitError carries an exit code; its message, if any, is printed once by
// Main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// printed marks an error whose details the command already wrote, so Main
// only sets the exit code.
func printed(code int) error { return &exitError{code: code} }

// usageError is a mistake in flags or arguments.
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// Main runs aiobs with args and the three streams and returns the exit
// code. Errors are printed here and nowhere else.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "aiobs: internal error: %v; please report this with the input that caused it\n%s", r, debug.Stack())
			code = exitFindings
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	if e, ok := errors.AsType[*exitError](err); ok {
		if e.err != nil {
			fmt.Fprintf(stderr, "aiobs: %v\n", e.err)
		}
		if e.code == exitUsage {
			fmt.Fprintln(stderr, "run 'aiobs --help' for usage")
		}
		return e.code
	}
	if l, ok := errors.AsType[diag.List](err); ok {
		_ = diag.Print(stderr, l, diag.FormatText)
		return exitFindings
	}
	// Cobra's own flag and argument errors arrive as plain errors.
	if isCobraUsage(err) {
		fmt.Fprintf(stderr, "aiobs: %v\nrun 'aiobs --help' for usage\n", err)
		return exitUsage
	}
	fmt.Fprintf(stderr, "aiobs: %v\n", err)
	return exitFindings
}

// newRootCmd builds the whole command tree.
func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "aiobs",
		Short: "Compile observability for AI inference workloads",
		Long: `aiobs compiles a few CUE decisions per team, workload and environment into
Grafana dashboards, burn-rate Prometheus rules, Loki ruler files, Alertmanager
routing and the provisioning that wires them together.

` + exitCodesHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
		Example: `  aiobs init mydecisions
  aiobs render --decisions mydecisions --out out
  aiobs validate --decisions mydecisions --out out`,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError("%v", err) })
	root.AddCommand(
		newRenderCmd(),
		newValidateCmd(),
		newGPUProbeCmd(),
		newInitCmd(),
		newPreviewCmd(),
		newCompletionCmd(),
		newTestCmd(),
		newExplainCmd(),
		newVersionCmd(),
	)
	// Cobra's generated completion command would duplicate ours.
	root.CompletionOptions.DisableDefaultCmd = true
	return root
}

func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires ", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// args rejects positional arguments beyond max with a usage error.
func maxArgs(max int) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) > max {
			return usageError("too many arguments: %q", args[max:])
		}
		return nil
	}
}
