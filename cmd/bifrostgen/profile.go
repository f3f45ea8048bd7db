package main

import (
	"errors"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// addProfileFlags adds the hidden --cpuprofile and --memprofile, which the
// generator's benchmark (bench/gen1000, issue #14) profiles a run with.
func addProfileFlags(root *cobra.Command) {
	var cpu, mem string
	var cpuFile *os.File
	root.PersistentFlags().StringVar(&cpu, "cpuprofile", "", "write a CPU profile of the run to `file`")
	root.PersistentFlags().StringVar(&mem, "memprofile", "", "write a heap profile at the end of the run to `file`")
	_ = root.PersistentFlags().MarkHidden("cpuprofile")
	_ = root.PersistentFlags().MarkHidden("memprofile")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if cpu == "" {
			return nil
		}
		f, err := os.Create(cpu)
		if err != nil {
			return err
		}
		cpuFile = f
		return pprof.StartCPUProfile(f)
	}
	root.PersistentPostRunE = func(*cobra.Command, []string) error {
		var err error
		if cpuFile != nil {
			pprof.StopCPUProfile()
			err = cpuFile.Close()
		}
		if mem != "" {
			f, ferr := os.Create(mem)
			if ferr != nil {
				return errors.Join(err, ferr)
			}
			runtime.GC()
			err = errors.Join(err, pprof.Lookup("allocs").WriteTo(f, 0), f.Close())
		}
		return err
	}
}
