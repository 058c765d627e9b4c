package validate

import (
	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/write"
)

// checkDashboards is a placeholder until its checks land.
func checkDashboards(p *plan.Plan, files []write.File) diag.List { return nil }
