//go:build !(cgo && linux)

package nvml

import (
	"fmt"

	"github.com/aiobs/aiobs/gpuprobe/backend"
	"github.com/aiobs/aiobs/gpuprobe/internal/guard"
)

// initLib fails: go-nvml needs cgo.
func initLib() (guard.Lib, error) {
	return nil, fmt.Errorf("nvml: %w", backend.ErrUnavailable)
}
