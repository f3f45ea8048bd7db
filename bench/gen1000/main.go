// Command gen1000 makes a synthetic module of 1,000 workflows in 50 packages
// and times bifrostgen generate, bifrostgen check, go vet and swag init on
// it, warm and after an edit of every package, printing Go benchmark lines
// (wall time and peak RSS of the tool's process) that benchstat reads:
//
//	go run ./gen1000 -dir /tmp/synth -bifrostgen bin/bifrostgen -swag bin/swag -count 3
//
// Each workflow carries both a //bifrost:workflow directive and swag's
// annotations, so the two generators document the same 1,000 endpoints.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	dir := flag.String("dir", "", "where to write the synthetic module (made fresh)")
	root := flag.String("root", "..", "the bifrost repository the module replaces to")
	bifrostgen := flag.String("bifrostgen", "", "the bifrostgen binary (empty: only make the module)")
	swag := flag.String("swag", "", "the swag binary")
	count := flag.Int("count", 3, "runs of each measurement")
	packages := flag.Int("packages", 50, "packages")
	per := flag.Int("per", 20, "workflows per package")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "gen1000: -dir is required")
		os.Exit(2)
	}
	abs, err := filepath.Abs(*root)
	if err == nil {
		err = writeModule(*dir, abs, *packages, *per)
	}
	if err == nil && *bifrostgen != "" {
		err = measure(*dir, *bifrostgen, *swag, *count, *packages)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen1000:", err)
		os.Exit(1)
	}
}
