#!/usr/bin/env bash
# A1: public sign-ups with the `welcome-volunteer` automation enabled, on a release server.
# The relay scenario's commit→processed latency then includes the automation run (the dispatch
# job runs matching automations and applies their effects before it marks the event
# processed), so it is the sign-up-commit-to-effects-applied latency. Afterwards every
# sign-up must have exactly one succeeded run.
#
#   bench/a1.sh                       # both backends
#   BENCH_BACKENDS=sqlite bench/a1.sh
#
# Knobs: BENCH_RELAY_RATE (50/s), BENCH_RELAY_SECS (20), BENCH_PORT (18091), BENCH_PG_URL,
# TURNOUT_BIN and BENCH_BIN (prebuilt release binaries), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

BACKENDS=${BENCH_BACKENDS:-"sqlite postgres"}
RATE=${BENCH_RELAY_RATE:-50}
SECS=${BENCH_RELAY_SECS:-20}
PORT=${BENCH_PORT:-18091}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
PG_DB=turnout_bench_a1
TARGET=${CARGO_TARGET_DIR:-target}
if [[ -z "${TURNOUT_BIN:-}" || -z "${BENCH_BIN:-}" ]]; then
    cargo build --release -p turnout -p turnout-bench
fi
TURNOUT=${TURNOUT_BIN:-$TARGET/release/turnout}
BENCH=${BENCH_BIN:-$TARGET/release/turnout-bench}
cargo build --release --target wasm32-wasip2 --manifest-path plugins/guests/Cargo.toml \
    -p welcome-volunteer --target-dir "$TARGET/wasm-guests" >/dev/null
WASM="$TARGET/wasm-guests/wasm32-wasip2/release/welcome_volunteer.wasm"
WORK=$(mktemp -d)
trap 'kill $SERVER_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT

gql() { # key, JSON body
    curl -sf -H "content-type: application/json" -H "authorization: Bearer $1" \
        --data-binary @- "http://127.0.0.1:$PORT/graphql"
}

run_backend() {
    local backend=$1 url
    if [[ $backend == sqlite ]]; then
        url="sqlite://$WORK/a1.db?mode=rwc"
    else
        psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
        psql "$PG_URL/postgres" -qc "CREATE DATABASE $PG_DB" >/dev/null
        url="$PG_URL/$PG_DB"
    fi
    DATABASE_URL="$url" TURNOUT_LISTEN="127.0.0.1:$PORT" TURNOUT_RATE_SIGNUPS_PER_IP=0 \
    TURNOUT_RATE_SIGNUPS_PER_FORM=0 TURNOUT_RATE_REQUESTS_PER_CREDENTIAL=0 RUST_LOG=warn \
        "$TURNOUT" serve >"$WORK/$backend.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 300); do
        curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break
        sleep 0.1
    done
    local key
    key=$(grep -o 'Admin API key: tn_[A-Za-z0-9_-]*' "$WORK/$backend.log" | head -1 | sed 's/.*: //')
    [[ -n "$key" ]] || { cat "$WORK/$backend.log" >&2; exit 1; }
    local version owner
    version=$(printf '{"query":"mutation($c: String!) { installPlugin(component: $c) { version { id } } }","variables":{"c":"%s"}}' \
        "$(base64 -w0 "$WASM")" | gql "$key" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["installPlugin"]["version"]["id"])')
    # The welcome plugin assigns point people round-robin: the owner is the only one here.
    if [[ $backend == sqlite ]]; then
        owner=$(python3 -c 'import sqlite3,sys,uuid; v=sqlite3.connect(sys.argv[1]).execute("select user_id from memberships limit 1").fetchone()[0]; print(uuid.UUID(bytes=v) if isinstance(v, bytes) else v)' "$WORK/a1.db")
    else
        owner=$(psql "$url" -Atc "select user_id from memberships limit 1")
    fi
    printf '%s' "{\"query\":\"mutation(\$i: CreateAutomationInput!) { createAutomation(input: \$i) { id } }\",\"variables\":{\"i\":{\"name\":\"Welcome\",\"pluginVersionId\":\"$version\",\"triggerKinds\":[\"person.signed_up\"],\"config\":{\"tag\":\"welcomed\",\"point_people\":[\"$owner\"],\"follow_up_days\":2}}}}" \
        | gql "$key" >/dev/null
    echo "== $backend: A1 at ${RATE}/s for ${SECS}s (load $(cut -d' ' -f1-3 /proc/loadavg))"
    local pgargs=()
    [[ $backend == postgres ]] && pgargs=(--pg-database "$PG_DB")
    "$BENCH" relay --mode steady --url "http://127.0.0.1:$PORT" --database-url "$url" \
        --rate "$RATE" --secs "$SECS" --server-pid "$SERVER_PID" --label "$backend-a1" \
        "${pgargs[@]}" || true
    echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
    if [[ $backend == sqlite ]]; then
        python3 - "$WORK/a1.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
signups = db.execute("select count(*) from domain_events where kind='person.signed_up'").fetchone()[0]
runs = db.execute("select status, count(*) from automation_runs group by status").fetchall()
print(f"sign-ups {signups}; automation runs by status {runs}")
PY
    else
        psql "$PG_URL/$PG_DB" -Atc "select 'sign-ups ' || count(*) from domain_events where kind='person.signed_up'"
        psql "$PG_URL/$PG_DB" -Atc "select 'runs ' || status || ' ' || count(*) from automation_runs group by status"
        psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
    fi
}

for b in $BACKENDS; do run_backend "$b"; done
