package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aiobs/aiobs/compile"
	"github.com/aiobs/aiobs/compile/diag"
	"github.com/aiobs/aiobs/render/grafana"
	"github.com/aiobs/aiobs/validate"
)

func main() {
	p, err := compile.Compile(context.Background(), os.Args[1], compile.Options{})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	files, err := grafana.Render(p)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	for _, f := range files {
		path := filepath.Join(os.Args[2], f.Path)
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, f.Bytes, 0o644)
	}
	l := validate.Check(p, files)
	diag.Print(os.Stdout, l, "text")
	fmt.Println(len(files), "files", len(l), "findings")
}
