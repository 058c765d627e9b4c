package dcgm

import (
	godcgm "github.com/NVIDIA/go-dcgm/pkg/dcgm"
	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

var _ = godcgm.Init
var _ = nvml.New
