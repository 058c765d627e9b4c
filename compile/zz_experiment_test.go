package compile

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"

	"github.com/aiobs/aiobs/internal/synth"
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestExperimentVariants(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("XN"))
	if n == 0 {
		t.Skip()
	}
	dir := filepath.Join(t.TempDir(), "d")
	synth.Write(dir, synth.ForWorkloads(n, 1))
	variants := map[string]func(c *compiler, files []decisionFile) cue.Value{
		"v0-incremental": func(c *compiler, files []decisionFile) cue.Value {
			v, d := c.evaluate(files)
			if len(d) > 0 {
				t.Fatal(d)
			}
			return v
		},
		"v1-tree": func(c *compiler, files []decisionFile) cue.Value {
			vals := []cue.Value{c.std.LookupPath(cue.ParsePath("#Decisions"))}
			for _, f := range files {
				vals = append(vals, c.ctx.BuildFile(f.file, cue.Scope(c.std)))
			}
			for len(vals) > 1 {
				var next []cue.Value
				for i := 0; i < len(vals); i += 2 {
					if i+1 < len(vals) {
						next = append(next, vals[i].Unify(vals[i+1]))
					} else {
						next = append(next, vals[i])
					}
				}
				vals = next
			}
			if err := vals[0].Validate(cue.Concrete(true), cue.Final()); err != nil {
				t.Fatal(err)
			}
			return vals[0]
		},
		"v2-instance": func(c *compiler, files []decisionFile) cue.Value {
			inst := build.NewContext().NewInstance("decisions", nil)
			inst.User = true
			for _, f := range files {
				inst.AddSyntax(f.file)
			}
			iv := c.ctx.BuildInstance(inst, cue.Scope(c.std))
			v := c.std.LookupPath(cue.ParsePath("#Decisions")).Unify(iv)
			if err := v.Validate(cue.Concrete(true), cue.Final()); err != nil {
				t.Fatal(err)
			}
			return v
		},
		"v3-embed": func(c *compiler, files []decisionFile) cue.Value {
			var expr ast.Expr
			for _, f := range files {
				var elts []ast.Decl
				for _, d := range f.file.Decls {
					switch d.(type) {
					case *ast.Package, *ast.ImportDecl:
						continue
					}
					elts = append(elts, d)
				}
				s := &ast.StructLit{Elts: elts}
				if expr == nil {
					expr = s
				} else {
					expr = &ast.BinaryExpr{X: expr, Op: 0, Y: s}
				}
			}
			_ = expr
			return cue.Value{}
		},
		"v4-perfile": func(c *compiler, files []decisionFile) cue.Value {
			schema := c.std.LookupPath(cue.ParsePath("#Decisions"))
			var vals []cue.Value
			for _, f := range files {
				v := schema.Unify(c.ctx.BuildFile(f.file, cue.Scope(c.std)))
				if err := v.Validate(cue.Concrete(true), cue.Final()); err != nil {
					t.Fatal(err)
				}
				vals = append(vals, v)
			}
			t0 := cpuNow()
			for len(vals) > 1 {
				var next []cue.Value
				for i := 0; i < len(vals); i += 2 {
					if i+1 < len(vals) {
						next = append(next, vals[i].Unify(vals[i+1]))
					} else {
						next = append(next, vals[i])
					}
				}
				vals = next
			}
			t.Logf("  v4 merge cpu %v", cpuNow()-t0)
			return vals[0]
		},
	}
	for _, name := range []string{"v0-incremental", "v1-tree", "v2-instance", "v4-perfile"} {
		if os.Getenv("XV") != "" && os.Getenv("XV") != name {
			continue
		}
		files, _ := readDecisions(dir, Options{MaxFileBytes: DefaultMaxFileBytes})
		c := &compiler{ctx: cuecontext.New(), opts: Options{MaxFileBytes: DefaultMaxFileBytes, MaxTargets: DefaultMaxTargets}, dir: dir}
		c.loadStandard()
		t0, w0 := cpuNow(), time.Now()
		v := variants[name](c, files)
		t1 := cpuNow()
		p, d := c.build(v)
		if len(d) > 0 {
			t.Fatal(d)
		}
		t.Logf("%s: eval cpu %v, build cpu %v, wall %v, targets %d", name, t1-t0, cpuNow()-t1, time.Since(w0), len(p.Targets))
	}
}
