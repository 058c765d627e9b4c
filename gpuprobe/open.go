package gpuprobe

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/aiobs/aiobs/gpuprobe/backend"
	"github.com/aiobs/aiobs/gpuprobe/dcgm"
	"github.com/aiobs/aiobs/gpuprobe/nvml"
)

// Modes for OpenOptions.Mode.
const (
	// ModeAuto: DCGM standalone when HostEngine is set or a host engine
	// answers on DefaultHostEngine, else DCGM embedded; then NVML. A running
	// host engine is never doubled by an embedded one.
	ModeAuto = "auto"
	// ModeStandalone: only a running host engine (HostEngine or
	// DefaultHostEngine); then NVML.
	ModeStandalone = "standalone"
	// ModeEmbedded: only an in-process host engine; then NVML.
	ModeEmbedded = "embedded"
	// ModeNVML: NVML only.
	ModeNVML = "nvml"
)

// DefaultHostEngine is where nv-hostengine listens by default.
const DefaultHostEngine = "127.0.0.1:5555"

// OpenOptions choose the backend.
type OpenOptions struct {
	// Mode is one of the Mode constants; empty means ModeAuto.
	Mode string
	// HostEngine is the address of a running nv-hostengine: "host:port", a
	// unix socket path, or a tcp://, unix:// connection string (DCGM ≥ 4.5).
	HostEngine string
	// NoFallback turns the NVML fallback off.
	NoFallback bool
}

// candidate is one backend Open may try.
type candidate struct {
	library string
	open    func() Backend
}

// openers builds the real backends; tests replace it.
type openers struct {
	dcgm func(address string) Backend
	nvml func() Backend
	// engineUp reports whether a host engine answers at address.
	engineUp func(ctx context.Context, address string) bool
}

func realOpeners() openers {
	return openers{
		dcgm:     func(address string) Backend { return dcgm.New(dcgm.Config{Address: address}) },
		nvml:     func() Backend { return nvml.New() },
		engineUp: engineUp,
	}
}

// Open initialises the first backend that works, in this order: DCGM
// standalone against a running host engine (HostEngine, or one answering on
// DefaultHostEngine, preferred because it shares the node engine's
// profiling counters with dcgm-exporter), DCGM embedded, then NVML. It
// never starts or stops the node's own host engine.
//
// The returned backend is initialised; pass it to Probe, which shuts it
// down. When nothing works the error is a *NoBackendError that lists every
// attempt, the library each looked for and how to install it.
func Open(ctx context.Context, opts OpenOptions) (Backend, error) {
	return open(ctx, opts, realOpeners())
}

func open(ctx context.Context, opts OpenOptions, o openers) (Backend, error) {
	cands, err := candidates(ctx, opts, o)
	if err != nil {
		return nil, err
	}
	var tried []Attempt
	for _, c := range cands {
		if err := ctx.Err(); err != nil {
			return nil, interrupted(err)
		}
		b := c.open()
		info, err := b.Init(ctx)
		if err == nil {
			return &opened{Backend: b, info: withFallback(info, tried)}, nil
		}
		tried = append(tried, Attempt{Backend: b.Name(), Library: c.library, Err: err})
	}
	return nil, &NoBackendError{Tried: tried}
}

func candidates(ctx context.Context, opts OpenOptions, o openers) ([]candidate, error) {
	dcgmAt := func(address string) candidate {
		return candidate{library: backend.LibraryDCGM, open: func() Backend { return o.dcgm(address) }}
	}
	var cands []candidate
	switch mode := opts.Mode; mode {
	case "", ModeAuto:
		switch {
		case opts.HostEngine != "":
			cands = append(cands, dcgmAt(opts.HostEngine))
		case o.engineUp(ctx, DefaultHostEngine):
			// No embedded fallback here: a second host engine next to the
			// node's would compete for the profiling counters and could blank
			// dcgm-exporter's profiling metrics while gpuprobe runs.
			cands = append(cands, dcgmAt(DefaultHostEngine))
		default:
			cands = append(cands, dcgmAt(""))
		}
	case ModeStandalone:
		addr := opts.HostEngine
		if addr == "" {
			addr = DefaultHostEngine
		}
		cands = append(cands, dcgmAt(addr))
	case ModeEmbedded:
		if opts.HostEngine != "" {
			return nil, fmt.Errorf("gpuprobe open: mode %s takes no host engine address", mode)
		}
		cands = append(cands, dcgmAt(""))
	case ModeNVML:
		return []candidate{{library: backend.LibraryNVML, open: o.nvml}}, nil
	default:
		return nil, fmt.Errorf("gpuprobe open: unknown mode %q; want one of %s, %s, %s, %s",
			mode, ModeAuto, ModeStandalone, ModeEmbedded, ModeNVML)
	}
	if !opts.NoFallback {
		cands = append(cands, candidate{library: backend.LibraryNVML, open: o.nvml})
	}
	return cands, nil
}

func withFallback(info backend.Info, tried []Attempt) backend.Info {
	if len(tried) == 0 {
		return info
	}
	parts := make([]string, len(tried))
	for i, a := range tried {
		parts[i] = fmt.Sprintf("%s: %v", a.Backend, a.Err)
	}
	info.Fallback = strings.Join(parts, "; ")
	return info
}

// opened is an initialised backend from Open. Its Init returns the Info
// Open saw, fallback reason included.
type opened struct {
	Backend
	info backend.Info
}

func (o *opened) Init(ctx context.Context) (backend.Info, error) {
	if _, err := o.Backend.Init(ctx); err != nil {
		return backend.Info{}, err
	}
	return o.info, nil
}

// engineUp dials a TCP host engine address briefly. Only plain host:port
// addresses are checked; DCGM itself decides for anything else.
func engineUp(ctx context.Context, address string) bool {
	d := net.Dialer{Timeout: 300 * time.Millisecond}
	conn, err := d.DialContext(ctx, "tcp", address)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}
