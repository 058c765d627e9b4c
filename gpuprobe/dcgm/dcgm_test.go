package dcgm

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aiobs/aiobs/gpuprobe/backend"
)

func TestCodeFromMessage(t *testing.T) {
	tests := []struct {
		name     string
		msg      string
		wantCode int
		wantText string
	}{
		{"a watch failing on an unsupported field", "error watching fields: Feature not supported", -6,
			"Feature not supported"},
		{"another profiler holding the counters", "error watching fields: The third-party Profiling module returned an unrecoverable error", -37,
			"The third-party Profiling module returned an unrecoverable error"},
		{"the profiling module missing on a consumer gpu", "This request is serviced by a module of DCGM that is not currently loaded", -33,
			"This request is serviced by a module of DCGM that is not currently loaded"},
		{"a resource in use", "error watching fields: The requested operation could not be completed because the affected resource is in use", -34,
			"The requested operation could not be completed because the affected resource is in use"},
		{"a lost host engine connection", "error connecting to nv-hostengine: Host engine connection invalid/disconnected", -21,
			"Host engine connection invalid/disconnected"},
		{"stale data is not no data", "Only stale data is available", -15, "Only stale data is available"},
		{"a trailing period is tolerated", "error creating group: Max limit reached for the object.", -24,
			"Max limit reached for the object"},
		{"an unknown message keeps its text and no code", "missing dcgm address and / or port", 0,
			"missing dcgm address and / or port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, text := codeFromMessage(tt.msg)
			if code != tt.wantCode || text != tt.wantText {
				t.Errorf("codeFromMessage = %d, %q; want %d, %q", code, text, tt.wantCode, tt.wantText)
			}
		})
	}
}

func TestStandaloneArgs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"host and port is tcp", "10.0.0.7:5555", []string{"10.0.0.7:5555", "0"}},
		{"an absolute path is a unix socket", "/run/nvidia-dcgm/dcgm.sock", []string{"/run/nvidia-dcgm/dcgm.sock", "1"}},
		{"a connection string goes as one argument", "unix:///run/dcgm.sock", []string{"unix:///run/dcgm.sock"}},
		{"a TCP connection string in capitals too", "TCP://node:5555", []string{"TCP://node:5555"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, standaloneArgs(tt.in)); diff != "" {
				t.Errorf("standaloneArgs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInitError(t *testing.T) {
	var missing *backend.MissingLibraryError
	if err := initError(errors.New("libdcgm.so.4 not found")); !errors.As(err, &missing) || missing.Library != backend.LibraryDCGM {
		t.Errorf("missing library: %v (%T)", err, err)
	}
	err := initError(errors.New("error starting nv-hostengine: Host engine is running as non-root"))
	var be *backend.Error
	if !errors.As(err, &be) || be.Code != backend.CodeRequiresRoot || be.Op != "init" {
		t.Errorf("non-root: %v (%T)", err, err)
	}
}

func TestNewNamesTheMode(t *testing.T) {
	if got := New(Config{}).Name(); got != backend.NameDCGMEmbedded {
		t.Errorf("embedded name = %q", got)
	}
	if got := New(Config{Address: "127.0.0.1:5555"}).Name(); got != backend.NameDCGMStandalone {
		t.Errorf("standalone name = %q", got)
	}
}
