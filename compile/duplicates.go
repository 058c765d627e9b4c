package compile

import (
	"fmt"
	"strings"

	"cuelang.org/go/cue/ast"

	"github.com/aiobs/aiobs/compile/diag"
)

// definedPaths are the decision paths that name one thing each: an
// environment, a team's settings, a workload. CUE would silently unify two
// files that both define teams.a.workloads.chat, so a copy-pasted file would
// merge with its original instead of failing.
var definedPaths = [][]string{
	{"environments", "*"},
	{"teams", "*", "workloads", "*"},
	{"backends", "*"},
}

// duplicateDefinitions reports a workload, environment or backend that more
// than one file defines.
func duplicateDefinitions(files []decisionFile) diag.List {
	first := map[string]diag.Pos{}
	var out diag.List
	for _, f := range files {
		seen := map[string]bool{}
		walkLabels(f.file.Decls, nil, func(path []string, pos diag.Pos) {
			key := strings.Join(path, ".")
			if seen[key] {
				return // the same file may split a definition; CUE unifies it
			}
			seen[key] = true
			if p, ok := first[key]; ok {
				out = append(out, diag.Diagnostic{Pos: pos, Related: []diag.Pos{p}, Rule: "DUPLICATE_DEFINITION", Severity: diag.Error, Path: key,
					Msg: fmt.Sprintf("already defined in %s; define it in one file", p)})
				return
			}
			first[key] = pos
		})
	}
	return out
}

// walkLabels calls fn for every field whose label path matches one of
// definedPaths, following nested struct literals and the a: b: c: shorthand.
func walkLabels(decls []ast.Decl, prefix []string, fn func([]string, diag.Pos)) {
	for _, d := range decls {
		field, ok := d.(*ast.Field)
		if !ok {
			continue
		}
		name, _, err := ast.LabelName(field.Label)
		if err != nil {
			continue // a dynamic or pattern label names no single thing
		}
		path := append(append([]string(nil), prefix...), name)
		if matchesDefined(path) {
			fn(path, position(field.Label.Pos()))
		}
		if !isPrefixOfDefined(path) {
			continue
		}
		if st, ok := field.Value.(*ast.StructLit); ok {
			walkLabels(st.Elts, path, fn)
		}
	}
}

func matchesDefined(path []string) bool {
	for _, p := range definedPaths {
		if len(p) == len(path) && segmentsMatch(p, path) {
			return true
		}
	}
	return false
}

func isPrefixOfDefined(path []string) bool {
	for _, p := range definedPaths {
		if len(p) > len(path) && segmentsMatch(p[:len(path)], path) {
			return true
		}
	}
	return false
}

func segmentsMatch(pattern, path []string) bool {
	for i := range pattern {
		if pattern[i] != "*" && pattern[i] != path[i] {
			return false
		}
	}
	return true
}
