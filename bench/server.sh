# The release server as bench/run and bench/sweep drive it; sourced by both.
# Expects binary, work, pool and workers to be set.

# Starts the server on database URL $1; sets server_pid and port.
start_server() {
    env -i PATH="$PATH" CLIENTELE_DATABASE_URL="$1" CLIENTELE_BIND=127.0.0.1:0 CLIENTELE_BOOTSTRAP=false \
        CLIENTELE_RATE_LIMIT_PER_SECOND="${CLIENTELE_RATE_LIMIT_PER_SECOND:-1000000}" CLIENTELE_RATE_LIMIT_BURST="${CLIENTELE_RATE_LIMIT_BURST:-1000000}" \
        CLIENTELE_DATABASE_POOL_SIZE="$pool" CLIENTELE_WORKERS="$workers" RUST_LOG=warn,clientele=info \
        CLIENTELE_ORGANIZATION_CONNECTIONS="${CLIENTELE_ORGANIZATION_CONNECTIONS:-0}" \
        CLIENTELE_SQLITE_SYNCHRONOUS="${CLIENTELE_SQLITE_SYNCHRONOUS:-full}" \
        "$binary" >"$work/stdout" 2>"$work/stderr" &
    server_pid=$!
    for _ in $(seq 100); do grep -q "listening on" "$work/stderr" 2>/dev/null && break; sleep 0.1; done
    port="$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$work/stderr" | head -n 1)"
    [ -n "$port" ] || { cat "$work/stderr"; exit 1; }
}

stop_server() { kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""; }

# Prints a new API key for organization $2 in the database at URL $1, of
# mode $3 (live unless given), with the scopes $4 (every scope unless given).
create_key() {
    env -i PATH="$PATH" CLIENTELE_DATABASE_URL="$1" "$binary" key create --organization "$2" --mode "${3:-live}" \
        --scopes "${4:-customers:read,customers:write,tokens:create,events:read,webhooks:write,reports:read,audit:read}" \
        | sed 's/.*"apiKey":"\([^"]*\)".*/\1/'
}
