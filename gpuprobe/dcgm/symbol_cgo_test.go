//go:build cgo && linux

package dcgm

import "testing"

func TestHasSymbolOnlyFindsLoadedLibraries(t *testing.T) {
	tests := []struct {
		name     string
		lib, sym string
		want     bool
	}{
		{"a function of the loaded libc is found", "libc.so.6", "malloc", true},
		{"a function libc lacks is not", "libc.so.6", "dcgmWatchFields", false},
		{"a library that is not loaded is never loaded to look", "libaiobs-never-there.so", "malloc", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hasSymbol(tt.lib, tt.sym); got != tt.want {
				t.Errorf("hasSymbol(%s, %s) = %v, want %v", tt.lib, tt.sym, got, tt.want)
			}
		})
	}
}
