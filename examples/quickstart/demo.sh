#!/usr/bin/env bash
# Builds the quickstart binary, creates an API key, prints curl lines to try
# with it, and serves on 127.0.0.1:8080. Run by `make demo`.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bin
go build -o bin/quickstart ./examples/quickstart/cmd/quickstart
export BIFROST_DB=bin/demo.db BIFROST_CONFIG_WEBHOOK_SECRET=demo-secret
key=$(bin/quickstart keys create --description "make demo" 2>/dev/null)
echo "Serving the quickstart workflows on http://127.0.0.1:8080 (Ctrl-C stops)."
echo "API key for this demo (stored hashed in bin/demo.db, shown once): $key"
echo "Try:"
echo
sed "s/\$KEY/$key/g" examples/quickstart/demo.curl
echo
exec bin/quickstart serve --addr 127.0.0.1:8080
