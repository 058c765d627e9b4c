package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aiobs/aiobs/gpuprobe"
	"github.com/aiobs/aiobs/gpuprobe/fake"
	"github.com/aiobs/aiobs/gpuprobe/report"
)

// Exit codes of gpuprobe beyond the common ones.
const (
	exitNoGPU             = 4
	exitMissingCapability = 5
)

type gpuprobeFlags struct {
	hostengine string
	mode       string
	fake       string
	format     string
	output     string
	window     time.Duration
	interval   time.Duration
	require    []string
}

func newGPUProbeCmd() *cobra.Command {
	var f gpuprobeFlags
	cmd := &cobra.Command{
		Use:   "gpuprobe",
		Short: "Measure which DCGM fields this GPU node really reports",
		Long: `gpuprobe watches every field of the standard's GPU field set (dcgm-exporter's
default counters plus profiling, NVLink, ECC, clock-event and XID fields) on
every GPU and MIG instance for a short window, classifies each one
(available, available_zero, blank, event_no_event, not_supported,
no_permission, watch_failed, not_applicable), checks profiling support per
GPU model, and measures time to first sample, update interval, poll latency
and host-engine cost.

It prefers a host engine that is already running (--hostengine, default
127.0.0.1:5555), falls back to embedded DCGM, then to NVML, and says which
in the report. It never starts or stops the node's own host engine, and it
removes every watch it made, also on interrupt.

Name the report in an environment's decisions (gpu: reports: [...]) and
'aiobs render' keeps, swaps or drops GPU panels and alerts by what it says.

Exit codes:
  0  report written
  1  usage or write error, or interrupted
  3  no backend could be opened (no DCGM library, no host engine, no NVML)
  4  a backend opened but found no GPUs
  5  a capability named by --require is missing (the report is still written)`,
		Example: `  aiobs gpuprobe --output gpu-h100.json
  aiobs gpuprobe --format text
  aiobs gpuprobe --require dcp,nvlink    # node preflight
  aiobs gpuprobe --fake mig --format text  # a scripted scenario, no GPU needed`,
		Args: maxArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return runGPUProbe(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.hostengine, "hostengine", "", "address of a running DCGM host engine (default "+gpuprobe.DefaultHostEngine+" when one answers)")
	fl.StringVar(&f.mode, "mode", gpuprobe.ModeAuto, "backend: auto, standalone, embedded or nvml")
	fl.StringVar(&f.fake, "fake", "", "probe a scripted scenario instead of the hardware: "+strings.Join(fake.Names(), ", "))
	fl.StringVar(&f.format, flagFormat, "json", "report format: json or text")
	fl.StringVarP(&f.output, "output", "o", "-", "write the report to this file (- for standard output)")
	fl.DurationVar(&f.window, "window", gpuprobe.DefaultWindow, "how long to sample the fields")
	fl.DurationVar(&f.interval, "interval", gpuprobe.DefaultInterval, "update interval asked of the host engine")
	fl.StringSliceVar(&f.require, "require", nil, "capabilities the node must have: "+strings.Join(report.CapabilityNames(), ", "))
	return cmd
}

func runGPUProbe(cmd *cobra.Command, f gpuprobeFlags) error {
	if f.format != "json" && f.format != "text" {
		return usageError("--format %q: want json or text", f.format)
	}
	for _, r := range f.require {
		if !slices.Contains(report.CapabilityNames(), r) {
			return usageError("--require %q: want one of %s", r, strings.Join(report.CapabilityNames(), ", "))
		}
	}
	opts := gpuprobe.Options{Window: f.window, Interval: f.interval, Require: f.require}
	var b gpuprobe.Backend
	if f.fake != "" {
		sc, err := fake.Load(f.fake)
		if err != nil {
			return usageError("--fake: %v", err)
		}
		fb := fake.New(sc)
		opts.Clock = fb.Clock()
		b = fb
	} else {
		var err error
		b, err = gpuprobe.Open(cmd.Context(), gpuprobe.OpenOptions{Mode: f.mode, HostEngine: f.hostengine})
		if err != nil {
			return probeError(err)
		}
	}
	rep, probeErr := gpuprobe.Probe(cmd.Context(), b, opts)
	var missing *gpuprobe.MissingCapabilityError
	if probeErr != nil && !errors.As(probeErr, &missing) {
		return probeError(probeErr)
	}
	var buf bytes.Buffer
	write := report.Write
	if f.format == "text" {
		write = report.Text
	}
	if err := write(&buf, rep); err != nil {
		return err
	}
	if f.output == "-" {
		if _, err := cmd.OutOrStdout().Write(buf.Bytes()); err != nil {
			return err
		}
	} else if err := writeFileAtomic(f.output, buf.Bytes()); err != nil {
		return err
	}
	if missing != nil {
		return &exitError{code: exitMissingCapability, err: missing}
	}
	return nil
}

// probeError maps gpuprobe's typed errors to exit codes.
func probeError(err error) error {
	var noBackend *gpuprobe.NoBackendError
	var noGPU *gpuprobe.NoGPUError
	switch {
	case errors.As(err, &noBackend):
		return &exitError{code: exitEnvironment, err: err}
	case errors.As(err, &noGPU):
		return &exitError{code: exitNoGPU, err: err}
	}
	return err
}

// writeFileAtomic replaces path with data through a temporary file in the
// same directory, so a reader never sees half a report.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(dirOf(path), ".aiobs-gpuprobe-*")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	_, werr := tmp.Write(data)
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func dirOf(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[:i+1]
	}
	return "."
}
