# Imports (contract section 15) as bench/run and bench/citus measure them;
# sourced by both. Expects work, port and server_pid to be set.

# make_import_file FILE ROWS: a CSV of ROWS customers, with the columns of a
# merchant's own export (this service's names), every row valid.
make_import_file() {
    python3 - "$1" "$2" <<'EOF'
import sys

path, rows = sys.argv[1], int(sys.argv[2])
countries = ["US", "DE", "FR", "GB", "ES", "IT", "NL", "SE", "PL", "CA"]
languages = ["en", "de", "fr", "en", "es", "it", "nl", "sv", "pl", "fr"]
with open(path, "w") as f:
    f.write("externalId,firstName,lastName,email,phoneNumber,language,address.city,address.country,metadata\n")
    for i in range(rows):
        f.write(f'imp-{i},First{i},Last{i % 9973},person{i}@import{i % 13}.example,+1555{i:07d},'
                f'{languages[i % 10]},City {i % 500},{countries[i % 10]},"{{""source"":""import""}}"\n')
EOF
}

# import_start ORG KEY FILE QUERY: POSTs FILE as an import (the upload is
# timed with it); sets import_id, import_began, import_rss_before, and
# samples the server's anonymous memory until import_wait.
import_start() {
    local org="$1" key="$2" file="$3" query="$4"
    import_path="/v1/public-api/organizations/$org/customers/imports"
    import_key="$key"
    import_rss_before="$(awk '/RssAnon/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status")"
    ( while kill -0 "$server_pid" 2>/dev/null; do awk '/RssAnon/ { print $2 }' "/proc/$server_pid/status"; sleep 0.2; done ) >"$work/import-rss" &
    import_sampler=$!
    import_began="$(date +%s.%N)"
    import_id="$(curl -s -f -X POST -H "authorization: ApiKey $key" -H 'content-type: text/csv' --data-binary @"$file" \
        "http://127.0.0.1:$port$import_path?$query" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')"
}

# import_wait: waits for the import to end; sets import_seconds,
# import_rows (rows done), import_created, import_refused, import_status,
# import_rss_peak.
import_wait() {
    local status
    while :; do
        status="$(curl -s -f -H "authorization: ApiKey $import_key" "http://127.0.0.1:$port$import_path/$import_id")"
        python3 -c 'import json, sys; sys.exit(0 if json.loads(sys.argv[1])["finishedTime"] else 1)' "$status" && break
        sleep 0.2
    done
    import_seconds="$(awk -v s="$import_began" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')"
    kill "$import_sampler" 2>/dev/null || true
    import_rss_peak="$(sort -n "$work/import-rss" | tail -n 1 | awk '{ printf "%.1f", $1 / 1024 }')"
    read -r import_rows import_created import_refused import_status < <(python3 -c \
        'import json, sys; s = json.loads(sys.argv[1]); print(s["rowsDone"], s["created"], s["refused"], s["status"])' "$status")
}

# import_rate: rows per second of the last import.
import_rate() {
    awk -v n="$import_rows" -v t="$import_seconds" 'BEGIN { printf "%.0f", n / t }'
}
