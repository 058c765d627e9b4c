//go:build !(cgo && linux)

package dcgm

import (
	"fmt"

	"github.com/aiobs/aiobs/gpuprobe/backend"
	"github.com/aiobs/aiobs/gpuprobe/internal/guard"
)

// initLib fails: go-dcgm needs cgo, and its C glue is linux-only here.
func initLib(Config) (guard.Lib, error) {
	return nil, fmt.Errorf("dcgm: %w", backend.ErrUnavailable)
}
