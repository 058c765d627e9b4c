package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/aiobs/aiobs/standards"
)

func newInitCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "init [DIR]",
		Short: "Scaffold a decisions repository that renders as it is",
		Long: `init writes a minimal decisions repository (one environment, one team, one
workload) into DIR (default: the current directory). It refuses to overwrite
existing files. Edit the datasource uids and the workload, then run
'aiobs render'.

` + exitCodesHelp,
		Example: `  aiobs init decisions
  aiobs render --decisions decisions --out out`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runInit(cmd, dir)
		},
	}
}

func runInit(cmd *cobra.Command, dir string) error {
	files := standards.Scaffold()
	for _, f := range files {
		if _, err := os.Lstat(filepath.Join(dir, f.Name)); err == nil {
			return fmt.Errorf("%s already exists; init never overwrites files", filepath.Join(dir, f.Name))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		// O_EXCL keeps a file that appeared since the check above.
		w, err := os.OpenFile(filepath.Join(dir, f.Name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		_, werr := w.Write(f.Data)
		if err := errors.Join(werr, w.Close()); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", filepath.Join(dir, f.Name))
	}
	fmt.Fprintf(cmd.OutOrStdout(), "next: aiobs render --decisions %s --out out\n", dir)
	return nil
}
