// Package validate proves that rendered artifacts will bind and parse in
// the real systems: datasource references resolve in their environment,
// rule files pass Prometheus's rulefmt and PromQL parser, Loki rule files
// are well-formed with valid RE2 patterns, labels obey the taxonomy, and
// queries name only series the backend catalogues know.
//
// Check reads the plan and the artifact list; it never renders and never
// touches the file system. Every finding names the artifact and, where one
// exists, the decision's file:line:col.
package validate

import (
	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/compile/plan"
	"github.com/aiobs/aiobs/render/write"
)

// checker is one family of checks over the whole artifact set.
type checker func(a *artifacts) diag.List

// checkers run in this order; their findings are sorted afterwards, so the
// order only matters for reading the code.
var checkers = []checker{
	checkDashboards,
	checkPromRules,
	checkLokiRules,
	checkTaxonomy,
	checkDatasources,
}

// Check runs every check and returns all findings, sorted. It parses each
// artifact once and works on up to GOMAXPROCS artifacts at a time.
func Check(p *plan.Plan, files []write.File) diag.List {
	a := newArtifacts(p, files)
	var out diag.List
	for _, c := range checkers {
		out = append(out, c(a)...)
	}
	return out.Sorted()
}
