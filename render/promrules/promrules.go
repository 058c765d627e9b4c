// Package grafana renders Prometheus rules (placeholder
// until the rules work lands).
package promrules

import (
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/write"
)

// Render returns the Prometheus rule artifacts of the plan.
func Render(p *plan.Plan) ([]write.File, error) { return nil, nil }
