// Package grafana renders Grafana dashboards and provisioning (placeholder
// until the dashboard work lands).
package grafana

import (
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/write"
)

// Render returns the Grafana artifacts of the plan.
func Render(p *plan.Plan) ([]write.File, error) { return nil, nil }
