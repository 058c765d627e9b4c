package compile

import (
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"

	"github.com/aiobs/aiobs/compile/diag"
)

// How the decision files meet the schema.
//
// Each file is a separate CUE file: it sees its own top-level fields and
// the standard (cue.Scope), never another decision file's fields. Unifying
// the files one by one with Value.Unify keeps that scoping, but every Unify
// finalizes the value built so far, so n files cost n evaluations of a
// growing value: quadratic, 9 s of CPU for 1,000 workloads in 52 team files.
//
// unifyInstance builds all files as one CUE instance and unifies it with
// the schema once: the same conjuncts, evaluated once (0.3 s for the same
// repository). One instance differs from separate files in two ways: a name
// a file leaves unresolved is looked up in the other files' top-level
// fields before the standard, and hidden fields (_x) of every file share
// one package. When either could matter (crossFileNames), evaluate keeps
// the one-by-one unification, so every input means what it meant before
// and reports the same diagnostics; TestOneInstanceMeansTheSame compares
// the two on the corpus and on multi-file cases.

// unifyInstance unifies schema with all files built as one instance and
// validates the result.
func (c *compiler) unifyInstance(schema cue.Value, files []decisionFile) (cue.Value, error) {
	inst := build.NewContext().NewInstance("decisions", nil)
	// Decision files may name different packages, or none; built one by
	// one they never had to agree.
	inst.User = true
	for _, f := range files {
		if err := inst.AddSyntax(f.file); err != nil {
			return cue.Value{}, err
		}
	}
	v := schema.Unify(c.ctx.BuildInstance(inst, cue.Scope(c.std)))
	return v, v.Validate(cue.Concrete(true), cue.Final())
}

// buildFiles builds each file on its own, as CUE sees it without the
// others, and reports the files that do not build (a reference to nothing,
// a conflict within the file).
func (c *compiler) buildFiles(files []decisionFile) ([]cue.Value, diag.List) {
	var diags diag.List
	vals := make([]cue.Value, 0, len(files))
	for _, f := range files {
		fv := c.ctx.BuildFile(f.file, cue.Scope(c.std))
		if err := fv.Err(); err != nil {
			diags = append(diags, cueDiags(err, "CUE_EVAL")...)
			continue
		}
		vals = append(vals, fv)
	}
	return vals, diags
}

// unifyOneByOne unifies schema with each built file in turn and validates
// the result. It is quadratic in the number of files; evaluate uses it only
// when crossFileNames says one instance could mean something else.
func unifyOneByOne(schema cue.Value, vals []cue.Value) (cue.Value, error) {
	v := schema
	for _, fv := range vals {
		v = v.Unify(fv)
	}
	return v, v.Validate(cue.Concrete(true), cue.Final())
}

// crossFileNames reports whether one instance could give a name another
// meaning than the files built one by one give it:
//
//   - a file refers to a name it does not declare itself (built alone it
//     resolves in the standard, or nowhere) that another file declares as
//     a top-level field: in one instance it would resolve to that field.
//     This mirrors CUE's rule (internal/core/compile: top-level fields with
//     identifier labels, aliases unwrapped) and errs towards true: it also
//     counts files without a package clause, which CUE leaves out of
//     cross-file resolution;
//   - two files use a hidden field (_x, #_x) of the same name anywhere.
//     Hidden fields are scoped to their package: built one by one, files
//     of different packages (no package clause counts as one) have
//     different fields, and in one instance the same one. Within one
//     package the meaning is the same, but unifying one by one reports
//     spurious closedness errors when two files add to one hidden struct
//     that a file then uses as a closed definition's value (cost: _cost),
//     which one instance does not; both go the old way, so that no input
//     changes its diagnostics.
func crossFileNames(files []decisionFile) bool {
	declaredBy := map[string][]int{}
	hiddenIn := map[string]int{} // hidden label -> first file using it
	for i, f := range files {
		for _, d := range f.file.Decls {
			field, ok := d.(*ast.Field)
			if !ok {
				continue
			}
			label := field.Label
			if a, ok := label.(*ast.Alias); ok {
				label, _ = a.Expr.(ast.Label)
			}
			if id, ok := label.(*ast.Ident); ok {
				declaredBy[id.Name] = append(declaredBy[id.Name], i)
			}
		}
		shared := false
		ast.Walk(f.file, func(n ast.Node) bool {
			field, ok := n.(*ast.Field)
			if !ok || shared {
				return !shared
			}
			name, _, err := ast.LabelName(field.Label)
			if err != nil || !(strings.HasPrefix(name, "_") || strings.HasPrefix(name, "#_")) {
				return true
			}
			if first, ok := hiddenIn[name]; !ok {
				hiddenIn[name] = i
			} else if first != i {
				shared = true
			}
			return true
		}, nil)
		if shared {
			return true
		}
	}
	for i, f := range files {
		for _, id := range f.file.Unresolved {
			for _, j := range declaredBy[id.Name] {
				if j != i {
					return true
				}
			}
		}
	}
	return false
}
