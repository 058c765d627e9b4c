// Package grafana renders Loki ruler files (placeholder
// until the Loki work lands).
package lokirules

import (
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/write"
)

// Render returns the Loki rule artifacts of the plan.
func Render(p *plan.Plan) ([]write.File, error) { return nil, nil }
