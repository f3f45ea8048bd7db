// Command webhooks serves the webhook receivers of examples/webhooks.
package main

import (
	"github.com/bifrost-go/bifrost/examples/webhooks"
	"github.com/bifrost-go/bifrost/runtime"
)

func main() { runtime.Main(webhooks.Workflows()...) }
