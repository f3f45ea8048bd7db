#!/usr/bin/env bash
# Builds the quickstart binary, prints curl lines to try, and serves it on
# 127.0.0.1:8080. Run by `make demo`.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bin
go build -o bin/quickstart ./examples/quickstart/cmd/quickstart
export BIFROST_CONFIG_WEBHOOK_SECRET=demo-secret
echo "Serving the quickstart workflows on http://127.0.0.1:8080 (Ctrl-C stops). Try:"
echo
cat examples/quickstart/demo.curl
echo
exec bin/quickstart serve --addr 127.0.0.1:8080
