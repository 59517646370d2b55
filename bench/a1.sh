#!/usr/bin/env bash
# A1 and B1: public sign-ups with the `welcome-volunteer` automation enabled, on a release
# server. The relay scenario's commit→processed latency then includes the automation run (the
# dispatch job runs matching automations and applies their effects before it marks the event
# processed), so it is the sign-up-commit-to-effects-applied latency. Afterwards every sign-up
# must have exactly one succeeded run, and every new person exactly one welcome tag and one
# follow-up task: the script checks this in the database and exits non-zero if not.
#
#   bench/a1.sh                             # A1: a steady 50 sign-ups/s for 20 s, both backends
#   BENCH_BACKENDS=sqlite bench/a1.sh
#   BENCH_A1_MODE=burst bench/a1.sh         # B1: 20,000 sign-ups from 64 clients, then the drain
#
# Knobs: BENCH_A1_MODE (steady | burst), BENCH_RELAY_RATE (50/s) and BENCH_RELAY_SECS (20) for
# steady, BENCH_RELAY_TOTAL (20000) and BENCH_RELAY_CONCURRENCY (64) for burst,
# BENCH_RELAY_DRAIN (900 s: how long the backlog may take), BENCH_PORT (18091), BENCH_PG_URL
# (Turnout connects with `sslmode=disable`, as in bench/run.sh),
# TURNOUT_BIN and BENCH_BIN (prebuilt release binaries), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

BACKENDS=${BENCH_BACKENDS:-"sqlite postgres"}
RATE=${BENCH_RELAY_RATE:-50}
SECS=${BENCH_RELAY_SECS:-20}
MODE=${BENCH_A1_MODE:-steady}
TOTAL=${BENCH_RELAY_TOTAL:-20000}
CONCURRENCY=${BENCH_RELAY_CONCURRENCY:-64}
DRAIN=${BENCH_RELAY_DRAIN:-900}
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
        url="$PG_URL/$PG_DB?sslmode=disable"
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
    local pgargs=() shape
    [[ $backend == postgres ]] && pgargs=(--pg-database "$PG_DB")
    if [[ $MODE == burst ]]; then
        shape=(--total "$TOTAL" --concurrency "$CONCURRENCY")
        echo "== $backend: B1 burst of $TOTAL from $CONCURRENCY clients (load $(cut -d' ' -f1-3 /proc/loadavg))"
    else
        shape=(--rate "$RATE" --secs "$SECS")
        echo "== $backend: A1 at ${RATE}/s for ${SECS}s (load $(cut -d' ' -f1-3 /proc/loadavg))"
    fi
    "$BENCH" relay --mode "$MODE" --url "http://127.0.0.1:$PORT" --database-url "$url" \
        "${shape[@]}" --drain-timeout-secs "$DRAIN" --server-pid "$SERVER_PID" \
        --label "$backend-$MODE" "${pgargs[@]}" || true
    echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
    # One row of counts; every sign-up here made a new person (the bench sends fresh emails).
    local check="select
        (select count(*) from domain_events where kind = 'person.signed_up'),
        (select count(*) from people),
        (select count(*) from automation_runs where status = 'succeeded'),
        (select count(*) from automation_runs where status <> 'succeeded'),
        (select count(distinct t.person_id) from taggings t join tags g on g.id = t.tag_id
            where g.name = 'welcomed'),
        (select count(*) from taggings t join tags g on g.id = t.tag_id where g.name = 'welcomed'),
        (select count(*) from tasks),
        (select count(*) from (select person_id from tasks group by person_id
            having count(*) > 1) x)"
    local counts
    if [[ $backend == sqlite ]]; then
        counts=$(python3 -c 'import sqlite3,sys; print("|".join(map(str, sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone())))' "$WORK/a1.db" "$check")
    else
        counts=$(psql "$url" -Atc "$check")
        psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
    fi
    local signups people ok failed welcomed taggings tasks doubled
    IFS='|' read -r signups people ok failed welcomed taggings tasks doubled <<<"$counts"
    echo "sign-ups $signups; people $people; runs succeeded $ok, not succeeded $failed;" \
        "people welcomed $welcomed (taggings $taggings); follow-up tasks $tasks (people with more than one: $doubled)"
    if [[ $signups -eq 0 || $people -ne $signups || $ok -ne $signups || $failed -ne 0 \
        || $welcomed -ne $signups || $taggings -ne $signups || $tasks -ne $signups || $doubled -ne 0 ]]; then
        echo "CHECK FAILED: every sign-up must be one person with exactly one run, one welcome tag and one task" >&2
        FAILED=1
    else
        echo "check passed: every sign-up is one person with exactly one run, one welcome tag and one task"
    fi
}

FAILED=0
for b in $BACKENDS; do run_backend "$b"; done
exit "$FAILED"
