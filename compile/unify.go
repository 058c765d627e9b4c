package compile

import (
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
// repository). In one instance CUE resolves a name a file leaves unresolved
// against the other files' top-level fields before the standard, which the
// files-one-by-one scoping never did; when that could happen
// (crossFileNames), evaluate keeps the one-by-one unification, so every
// input means what it meant before.

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

// crossFileNames reports whether some file refers to a name it does not
// declare itself (so built alone it resolves in the standard, or nowhere)
// that another file declares as a top-level field. In one instance that
// name would resolve to the other file's field. It mirrors CUE's own rule
// (internal/core/compile: top-level fields with identifier labels, aliases
// unwrapped) and errs towards true: it also counts files without a package
// clause, which CUE leaves out of cross-file resolution.
func crossFileNames(files []decisionFile) bool {
	declaredBy := map[string][]int{}
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
