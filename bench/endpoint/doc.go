// Package endpoint serves one endpoint five ways, for benchmarks that compare
// them in one run (make bench): a JSON body of four required members
// ({"name","count","tags","meta"}) and a boolean query parameter (dry_run),
// validated and answered with {"name","count","tags","dry_run"}.
//
//   - plain: a hand-written echo handler, as most developers write it;
//   - careful: examples/bench's hand-written handler, which also mints a
//     UUIDv7 execution id, runs under a timeout and answers RFC 9457 problems;
//   - generated: examples/bench's bifrostgen binding served by the runtime;
//   - huma: huma v2 on echo (humaecho);
//   - fuego: fuego on net/http.
//
// This is a module of its own so that the peers stay out of the project's
// go.mod.
package endpoint
