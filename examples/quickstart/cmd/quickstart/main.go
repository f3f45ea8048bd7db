// Command quickstart serves the workflows of the quickstart example:
//
//	go run ./examples/quickstart/cmd/quickstart serve
package main

import (
	"github.com/bifrost-go/bifrost/examples/quickstart"
	"github.com/bifrost-go/bifrost/runtime"
)

func main() { runtime.Main(quickstart.Workflows()...) }
