#!/usr/bin/env bash
# Builds the quickstart binary, serves it with an API key and prints curl
# lines to try with it. Run by `make demo`.
#
# Environment:
#   ADDR      the address to serve on (0.0.0.0:8080 for every interface)
#   PORT      the port, on 127.0.0.1, when ADDR is not set (default 8080)
#   DEMO_DIR  where the binary, the database (demo.db) and the key
#             (demo.key, mode 0600) live; default bin/ of the repository
#
# The key is created once per database and kept in demo.key, so the curl
# lines of one run work in the next; a new one is created when the database
# or the file is gone, or the key is no longer live (revoked, expired).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${DEMO_DIR:-bin}
mkdir -p "$dir"

# Where to serve, and the address the curl lines call.
if [ -n "${ADDR:-}" ]; then
	addr=$ADDR
else
	addr=127.0.0.1:${PORT:-8080}
fi
host=${addr%:*} port=${addr##*:}
if [ "$host" = "$addr" ] || [ -z "$port" ] || [ -n "${port//[0-9]/}" ]; then
	echo "demo: address $addr: want HOST:PORT (ADDR=127.0.0.1:8080) or a port number (PORT=8080)" >&2
	exit 2
fi
case $host in
'' | 0.0.0.0 | '[::]') call=127.0.0.1:$port ;;
*) call=$addr ;;
esac
callhost=${call%:*} callhost=${callhost#\[} callhost=${callhost%\]}
if (exec 3<>"/dev/tcp/$callhost/$port") 2>/dev/null; then
	echo "demo: something already listens on $call; choose another port: make demo PORT=9090" >&2
	exit 1
fi

# Build, saying what is built: one line per package on a terminal (rewritten
# in place), else a line every few seconds.
pkg=./examples/quickstart/cmd/quickstart
if [ -x "$dir/quickstart" ]; then
	echo "building $dir/quickstart..."
else
	echo "building $dir/quickstart (the first build compiles every dependency: a minute or two)..."
fi
total=$(go list -deps "$pkg" | wc -l)
total=${total// /}
progress() {
	local n=0 last=-5 line
	while IFS= read -r line; do
		case $line in
		*' '* | *:* | '')
			# Not a package path: a download, an error. Keep it.
			[ -t 1 ] && [ $n -gt 0 ] && printf '\r\033[K'
			printf '%s\n' "$line"
			continue
			;;
		esac
		n=$((n + 1))
		if [ -t 1 ]; then
			printf '\r\033[K  compiling %d/%d %s' "$n" "$total" "$line"
		elif [ $SECONDS -ge $((last + 5)) ]; then
			last=$SECONDS
			printf '  compiling %d/%d %s\n' "$n" "$total" "$line"
		fi
	done
	[ -t 1 ] && [ $n -gt 0 ] && printf '\r\033[K'
	if [ $n -eq 0 ]; then
		echo "  every package was cached"
	else
		echo "  compiled $n packages in ${SECONDS}s"
	fi
}
SECONDS=0
if ! go build -v -o "$dir/quickstart" "$pkg" 2>&1 | progress; then
	echo "demo: the build failed" >&2
	exit 1
fi

export BIFROST_DB=$dir/demo.db BIFROST_CONFIG_WEBHOOK_SECRET=demo-secret

# One key per database: reuse demo.key while the key is live in demo.db.
keyfile=$dir/demo.key
key=
if [ -f "$BIFROST_DB" ] && [ -s "$keyfile" ]; then
	key=$(cat "$keyfile")
	id=${key#bf_} id=${id%%_*}
	if "$dir/quickstart" keys list | awk -v id="$id" '$1 == id && $3 == "live" { found = 1 } END { exit !found }'; then
		echo "API key: $key (reused from $keyfile)"
	else
		echo "the key in $keyfile is not live in $BIFROST_DB (revoked or expired): creating another"
		key=
	fi
fi
if [ -z "$key" ]; then
	errs=$(mktemp)
	if ! key=$("$dir/quickstart" keys create --description "make demo" 2>"$errs"); then
		cat "$errs" >&2
		rm -f "$errs"
		exit 1
	fi
	rm -f "$errs"
	(umask 077 && printf '%s\n' "$key" >"$keyfile.new")
	chmod 600 "$keyfile.new"
	mv "$keyfile.new" "$keyfile"
	echo "API key: $key (new; stored hashed in $BIFROST_DB, and in $keyfile for the next runs)"
fi

echo "Serving the quickstart workflows on http://$addr (Ctrl-C stops)."
echo "API reference: http://$call/api/docs"
echo "Try:"
echo
sed -e "s|http://127.0.0.1:8080|http://$call|g" -e "s/\$KEY/$key/g" examples/quickstart/demo.curl
echo
exec "$dir/quickstart" serve --addr "$addr"
