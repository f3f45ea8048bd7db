// Package runtime serves the workflows bifrostgen generated: it is what a
// binary's main and an existing echo app call.
//
//	func main() { runtime.Main(shop.Workflows()...) }
//
// Main gives the binary its command line (serve, worker, keys, config,
// executions, migrate, workflows, openapi). New builds a Server to mount
// into an echo app of your own (Server.Register) or to serve as an
// http.Handler, with Start and Shutdown around it. With a store, the
// server also answers the executions API (/api/executions) and the
// executions dashboard (/ui, runtime/internal/dashboard).
//
// What a request goes through, in order: the route (404, 405), the
// webhook signature (verify=), the credential (401, 403), the rate limit
// (429), decoding (413, 415, 400), then the workflow, in the request (sync)
// or on the durable queue (async, 202). The pieces live beside this
// package: runtime/auth (who is calling), runtime/store and its drivers
// (where executions, keys and configuration live), runtime/secret
// (encrypted configuration), runtime/bind (what generated code calls) and
// runtime/internal/cli (the commands).
package runtime
