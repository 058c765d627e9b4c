package gpuprobe

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/gpuprobe/backend"
	"github.com/aiobs/aiobs/gpuprobe/fake"
)

// testOpeners returns openers over fakes that record what was tried: DCGM
// is missing everywhere unless dcgmOK, NVML is missing unless nvmlOK.
func testOpeners(t *testing.T, engineUp, dcgmOK, nvmlOK bool, tried *[]string) openers {
	load := func(name string) fake.Scenario {
		sc, err := fake.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	return openers{
		dcgm: func(address string) Backend {
			sc := load("datacenter")
			if address != "" {
				sc.Backend, sc.Address = backend.NameDCGMStandalone, address
			}
			if !dcgmOK {
				sc.InitErr = &backend.MissingLibraryError{Library: backend.LibraryDCGM}
			}
			*tried = append(*tried, sc.Backend+" "+address)
			return fake.New(sc)
		},
		nvml: func() Backend {
			sc := load("nvml")
			if !nvmlOK {
				sc.InitErr = &backend.MissingLibraryError{Library: backend.LibraryNVML}
			}
			*tried = append(*tried, "nvml")
			return fake.New(sc)
		},
		engineUp: func(context.Context, string) bool { return engineUp },
	}
}

func TestOpenTriesBackendsInOrder(t *testing.T) {
	tests := []struct {
		name     string
		opts     OpenOptions
		engineUp bool
		want     []string
	}{
		{"auto without a host engine tries embedded then nvml", OpenOptions{}, false,
			[]string{"dcgm-embedded ", "nvml"}},
		{"auto prefers a running host engine and never doubles it with an embedded one", OpenOptions{}, true,
			[]string{"dcgm-standalone 127.0.0.1:5555", "nvml"}},
		{"an address means standalone against it", OpenOptions{HostEngine: "/run/nvidia/dcgm.sock"}, false,
			[]string{"dcgm-standalone /run/nvidia/dcgm.sock", "nvml"}},
		{"standalone without an address uses the default engine", OpenOptions{Mode: ModeStandalone}, false,
			[]string{"dcgm-standalone 127.0.0.1:5555", "nvml"}},
		{"embedded ignores a running engine", OpenOptions{Mode: ModeEmbedded}, true,
			[]string{"dcgm-embedded ", "nvml"}},
		{"no fallback stops after dcgm", OpenOptions{NoFallback: true}, false,
			[]string{"dcgm-embedded "}},
		{"nvml mode tries nvml only", OpenOptions{Mode: ModeNVML}, true,
			[]string{"nvml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tried []string
			_, err := open(context.Background(), tt.opts, testOpeners(t, tt.engineUp, false, false, &tried))
			var nb *NoBackendError
			if !errors.As(err, &nb) {
				t.Fatalf("err = %v (%T), want *NoBackendError", err, err)
			}
			if diff := cmp.Diff(tt.want, tried); diff != "" {
				t.Errorf("tried (-want +got):\n%s", diff)
			}
			if len(nb.Tried) != len(tt.want) {
				t.Errorf("error lists %d attempts, want %d", len(nb.Tried), len(tt.want))
			}
		})
	}
}

func TestOpenErrorSaysWhatToInstall(t *testing.T) {
	var tried []string
	_, err := open(context.Background(), OpenOptions{}, testOpeners(t, false, false, false, &tried))
	want := "no gpu backend could be opened: " +
		"dcgm-embedded (looked for libdcgm.so.4): libdcgm.so.4 not found; install DCGM 4 (apt-get install datacenter-gpu-manager-4-core from the NVIDIA CUDA repository) or give the address of a running nv-hostengine; " +
		"nvml (looked for libnvidia-ml.so.1): libnvidia-ml.so.1 not found; install the NVIDIA driver, which ships libnvidia-ml.so.1"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
	if !errors.Is(err, backend.ErrLibraryNotFound) {
		t.Error("errors.Is(err, ErrLibraryNotFound) = false")
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	for _, opts := range []OpenOptions{{Mode: "fastest"}, {Mode: ModeEmbedded, HostEngine: "10.0.0.1:5555"}} {
		var tried []string
		if _, err := open(context.Background(), opts, testOpeners(t, false, true, true, &tried)); err == nil {
			t.Errorf("open(%+v) succeeded", opts)
		}
		if len(tried) != 0 {
			t.Errorf("open(%+v) tried %v", opts, tried)
		}
	}
}

func TestTheNVMLFallbackSaysWhyInTheReport(t *testing.T) {
	var tried []string
	b, err := open(context.Background(), OpenOptions{}, testOpeners(t, false, false, true, &tried))
	if err != nil {
		t.Fatal(err)
	}
	clock := b.(*opened).Backend.(*fake.Backend).Clock()
	rep, err := Probe(context.Background(), b, Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Backend.Name != backend.NameNVML || rep.Backend.Fallback != "dcgm-embedded: libdcgm.so.4 not found" {
		t.Errorf("backend = %+v", rep.Backend)
	}
	if !rep.Capabilities.HardwareOnly || !strings.Contains(rep.Backend.Note, "dcgm-exporter needs DCGM") {
		t.Errorf("an nvml report must say it shows hardware ability only: %+v, %+v", rep.Backend, rep.Capabilities)
	}
}

// TestOpenOnThisMachine runs the real Open. Without DCGM and a driver (CI,
// dev machines, CGO_ENABLED=0) it must fail cleanly with the typed error;
// where a backend is installed it must open and shut down.
func TestOpenOnThisMachine(t *testing.T) {
	b, err := Open(context.Background(), OpenOptions{})
	if err == nil {
		t.Logf("opened %s", b.Name())
		if err := b.Shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		return
	}
	t.Log(err)
	var nb *NoBackendError
	if !errors.As(err, &nb) {
		t.Fatalf("err = %v (%T), want *NoBackendError", err, err)
	}
	for _, lib := range []string{backend.LibraryDCGM, backend.LibraryNVML} {
		if !strings.Contains(err.Error(), lib) {
			t.Errorf("error does not name %s: %v", lib, err)
		}
	}
	if !errors.Is(err, backend.ErrLibraryNotFound) && !errors.Is(err, backend.ErrUnavailable) {
		t.Logf("backends present but failing: %v", err)
	}
}
