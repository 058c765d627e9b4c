// Command synth writes a synthetic decisions repository for benchmarks:
//
//	go run ./internal/synth/cmd/synth -workloads 1000 -out /tmp/org1000
//
// The same flags always write the same bytes.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/aiobs/aiobs/internal/synth"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	workloads := fs.Int("workloads", 1000, "number of workloads, in teams of 20")
	seed := fs.Uint64("seed", 1, "seed of the mix of backends, SLOs and costs")
	out := fs.String("out", "", "decisions directory to write (required)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || *workloads < 1 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: synth -workloads N [-seed S] -out DIR")
		return 2
	}
	if err := synth.Write(*out, synth.ForWorkloads(*workloads, *seed)); err != nil {
		fmt.Fprintln(stderr, "synth:", err)
		return 1
	}
	return 0
}
