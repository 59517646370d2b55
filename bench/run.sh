#!/usr/bin/env bash
# Issue 7 benchmarks: builds release, then for each backend starts a fresh Turnout server
# (rate limits off), seeds the `campaign` data set, runs Q1, Q2, Q3, M1 and the outbox relay
# scenarios (steady and burst) and prints the results.
#
#   bench/run.sh                          # both backends
#   BENCH_BACKENDS=sqlite bench/run.sh    # one backend
#
# Knobs (environment): BENCH_BACKENDS ("sqlite postgres"), BENCH_CONCURRENCY (16),
# BENCH_WARMUP (5 s), BENCH_SECS (20 s), BENCH_PORT (18087), BENCH_SCENARIOS ("q1 q2 q3 m1 p1 p2 m2"),
# BENCH_RELAY ("steady burst", or "" to skip), BENCH_RELAY_RATE (50/s), BENCH_RELAY_SECS (20 s),
# BENCH_RELAY_TOTAL (5000), BENCH_RELAY_CONCURRENCY (32), BENCH_RELAY_DRAIN (120 s: how long to
# wait for the events to be processed),
# BENCH_PG_URL (postgres://postgres@127.0.0.1:5432: a server where we may create databases;
# Turnout connects with `sslmode=disable`, as a server on the same host would: the default
# `prefer` negotiates TLS on loopback when PostgreSQL has ssl = on),
# BENCH_PG_DB (turnout_bench: created fresh, dropped afterwards), CARGO_TARGET_DIR,
# TURNOUT_BIN (a prebuilt server binary instead of building `turnout` in release),
# BENCH_BIN (a prebuilt turnout-bench; then nothing is built), BENCH_PROFILE (`campaign`, or
# `union` for the organizing data set: run it with BENCH_SCENARIOS="w1 w2" BENCH_RELAY=""),
# BENCH_BROADCAST (1: after the scenarios, time a broadcast email to every seeded person from
# `sendBroadcast` until all its messages are queued).
set -euo pipefail

cd "$(dirname "$0")/.."
BACKENDS=${BENCH_BACKENDS:-"sqlite postgres"}
CONCURRENCY=${BENCH_CONCURRENCY:-16}
WARMUP=${BENCH_WARMUP:-5}
SECS=${BENCH_SECS:-20}
PORT=${BENCH_PORT:-18087}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
PG_DB=${BENCH_PG_DB:-turnout_bench}
SCENARIOS=${BENCH_SCENARIOS:-"q1 q2 q3 m1 p1 p2 m2"}
PROFILE=${BENCH_PROFILE:-campaign}
RELAY_MODES=${BENCH_RELAY-"steady burst"}
RELAY_RATE=${BENCH_RELAY_RATE:-50}
RELAY_SECS=${BENCH_RELAY_SECS:-20}
RELAY_TOTAL=${BENCH_RELAY_TOTAL:-5000}
RELAY_CONCURRENCY=${BENCH_RELAY_CONCURRENCY:-32}
RELAY_DRAIN=${BENCH_RELAY_DRAIN:-120}
TARGET=${CARGO_TARGET_DIR:-target}

if [[ -n "${BENCH_BIN:-}" ]]; then
    echo "== prebuilt: server ${TURNOUT_BIN:?BENCH_BIN needs TURNOUT_BIN}, bench $BENCH_BIN"
    TURNOUT="$TURNOUT_BIN"
elif [[ -n "${TURNOUT_BIN:-}" ]]; then
    # A prebuilt server (e.g. to compare builds); the bench tool is still built here.
    echo "== build (release): turnout-bench; server: $TURNOUT_BIN"
    cargo build --release -p turnout-bench
    TURNOUT="$TURNOUT_BIN"
else
    echo "== build (release)"
    cargo build --release -p turnout -p turnout-bench
    TURNOUT="$TARGET/release/turnout"
fi
BENCH=${BENCH_BIN:-"$TARGET/release/turnout-bench"}

WORK=$(mktemp -d -t turnout-bench.XXXXXX)
SERVER_PID=""
PG_CREATED=""
ROWS=()
RELAY_ROWS=()

stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        for _ in $(seq 1 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

cleanup() {
    stop_server
    if [[ -n "$PG_CREATED" ]]; then
        psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# start_server DATABASE_URL LOGFILE [ROLE]: starts `turnout serve` (role `all` unless given)
# and waits for /readyz.
start_server() {
    if curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz"; then
        echo "port $PORT is already in use" >&2
        exit 1
    fi
    DATABASE_URL="$1" \
    TURNOUT_LISTEN="127.0.0.1:$PORT" \
    TURNOUT_RATE_SIGNUPS_PER_IP=0 \
    TURNOUT_RATE_SIGNUPS_PER_FORM=0 \
    TURNOUT_RATE_REQUESTS_PER_CREDENTIAL=0 \
    TURNOUT_ROLE="${3:-all}" \
    RUST_LOG=${RUST_LOG:-warn} \
        "$TURNOUT" serve >"$2" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 300); do
        if curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz"; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$2" >&2; echo "server exited" >&2; exit 1; }
        sleep 0.1
    done
    echo "server not ready after 30 s" >&2
    exit 1
}

# PostgreSQL only: SQL statements per request, counted from the server log with
# log_statement = 'all' set on the benchmark database for this step only (the log prefix
# names user@database, so other databases' lines are not counted). The server runs with role
# `api` (no relay, no job workers), so the only statements are the requests' own.
PG_LOG=${BENCH_PG_LOG:-/var/log/postgresql/postgresql-15-main.log}
pg_log_count() {
    grep -E "@$PG_DB .*LOG:  (statement|execute)" "$PG_LOG" 2>/dev/null | wc -l
}
count_statements() {
    local url=$1 key=$2 n=20 before after idle
    if [[ ! -r "$PG_LOG" ]]; then
        echo "statements: $PG_LOG not readable, skipped"
        return 0
    fi
    psql "$PG_URL/postgres" -qc "ALTER DATABASE $PG_DB SET log_statement = 'all'" >/dev/null
    start_server "$url" "$WORK/postgres-count.log" api
    local q1='{"query":"{ people(first: 50) { edges { node { id firstName email tags { name } } } } }"}'
    gql() { curl -sf "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' "$@" >/dev/null; }
    ids() {
        curl -sf "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' \
            -H "authorization: Bearer $key" -d "{\"query\":\"{ $1(first: $n) { edges { node { id } } } }\"}" \
            | jq -r ".data.$1.edges[].node.id"
    }
    # The same queries as bench/src/load.rs.
    local q2='query Q2($id: ID!) { person(id: $id) { id firstName lastName email rsvps { id status shift { id startsAt endsAt event { id title location } } } } }'
    local q3='query Q3($id: ID!) { event(id: $id) { id title location shifts { id startsAt endsAt rsvps { id status person { id firstName lastName } } } } }'
    local people events
    people=$(ids people)
    events=$(ids events)
    gql -H "authorization: Bearer $key" -d "$q1"
    sleep 1
    before=$(pg_log_count); sleep 2; after=$(pg_log_count); idle=$((after - before))
    echo "statements: $idle logged in 2 s with no requests (background workers)"
    before=$(pg_log_count)
    for i in $(seq 1 $n); do gql -H "authorization: Bearer $key" -d "$q1"; done
    sleep 0.5; after=$(pg_log_count)
    echo "statements: Q1 $(( (after - before) )) for $n requests"
    # The same page at other sizes: the count must not depend on it.
    local size
    for size in 1 10 100; do
        before=$(pg_log_count)
        for i in $(seq 1 $n); do
            gql -H "authorization: Bearer $key" \
                -d "{\"query\":\"{ people(first: $size) { edges { node { id firstName email tags { name } } } } }\"}"
        done
        sleep 0.5; after=$(pg_log_count)
        echo "statements: Q1 with first: $size $(( (after - before) )) for $n requests"
    done
    local q id
    for q in q2 q3; do
        before=$(pg_log_count)
        for id in $([[ $q == q2 ]] && echo "$people" || echo "$events"); do
            gql -H "authorization: Bearer $key" \
                -d "$(jq -cn --arg q "$([[ $q == q2 ]] && echo "$q2" || echo "$q3")" --arg id "$id" '{query: $q, variables: {id: $id}}')"
        done
        sleep 0.5; after=$(pg_log_count)
        echo "statements: ${q^^} $(( (after - before) )) for $n requests (each a different $([[ $q == q2 ]] && echo person || echo event))"
    done
    before=$(pg_log_count)
    for i in $(seq 1 $n); do
        gql -d "{\"query\":\"mutation { signUp(form: \\\"volunteer\\\", input: {firstName: \\\"Count\\\", email: \\\"count-$i-$$@bench.example.org\\\"}) { submissionId } }\"}"
    done
    sleep 0.5; after=$(pg_log_count)
    echo "statements: M1 $(( (after - before) )) for $n requests"
    if [[ "$PROFILE" == union ]]; then
        local campaign w1 w2
        campaign=$(curl -sf "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' \
            -H "authorization: Bearer $key" -d '{"query":"{ organizingCampaigns { id } }"}' \
            | jq -r '.data.organizingCampaigns[0].id')
        # The same queries as bench/src/load.rs.
        w1='query W1($id: ID!) { organizingCampaign(id: $id) { wallChart { columns { worksiteName unit { name } workers { person { id firstName lastName } assessment assessmentLabel leader pointPersonUserId lastContactAt cardSignedOn } } } } }'
        w2='query W2($id: ID!) { organizingCampaign(id: $id) { wallChart { columns { unit { name } counts { workers signed percentSigned leaders levels { level count } } } structure { overall { workers signed percentSigned percentAssessedOneOrTwo leaders leadersPerWorker levels { level count } } columnsWithoutLeader { unit { name } } goalReached } weekly(weeks: 8) { weekStarting counts { workers signed levels { level count } } } } } }'
        for q in w1 w2; do
            before=$(pg_log_count)
            for i in $(seq 1 $n); do
                gql -H "authorization: Bearer $key" \
                    -d "$(jq -cn --arg q "$([[ $q == w1 ]] && echo "$w1" || echo "$w2")" --arg id "$campaign" '{query: $q, variables: {id: $id}}')"
            done
            sleep 0.5; after=$(pg_log_count)
            echo "statements: ${q^^} $(( (after - before) )) for $n requests"
        done
    fi
    stop_server
    psql "$PG_URL/postgres" -qc "ALTER DATABASE $PG_DB RESET log_statement" >/dev/null
}

# broadcast_queue_time KEY: creates a broadcast email to everyone, sends it, and waits (at most
# 10 minutes) until every message is queued; prints the count and the time.
broadcast_queue_time() {
    local key=$1 id status recipients t0 t1
    gql_out() {
        curl -sf "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' \
            -H "authorization: Bearer $key" -d "$1"
    }
    id=$(gql_out '{"query":"mutation { createBroadcast(input: { name: \"bench\", channel: EMAIL, audience: {}, contents: [{ language: \"en\", subject: \"Bench\", body: \"Hi {{ person.first_name }}\" }] }) { id } }"}' \
        | jq -r '.data.createBroadcast.id')
    [[ -n "$id" && "$id" != null ]] || { echo "broadcast: createBroadcast failed"; return 1; }
    t0=$(date +%s.%N)
    gql_out "{\"query\":\"mutation { sendBroadcast(id: \\\"$id\\\") { status } }\"}" >/dev/null
    for _ in $(seq 1 1200); do
        status=$(gql_out "{\"query\":\"{ broadcast(id: \\\"$id\\\") { status recipients } }\"}")
        if [[ $(echo "$status" | jq -r '.data.broadcast.status') == SENT ]]; then
            t1=$(date +%s.%N)
            recipients=$(echo "$status" | jq -r '.data.broadcast.recipients')
            echo "broadcast: $recipients messages queued in $(echo "$t1 - $t0" | bc) s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
            return 0
        fi
        sleep 0.5
    done
    echo "broadcast: not queued within 10 minutes"
}

run_backend() {
    local backend=$1 url pgargs=()
    case "$backend" in
        sqlite) url="sqlite://$WORK/turnout.db?mode=rwc" ;;
        postgres)
            psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
            psql "$PG_URL/postgres" -qc "CREATE DATABASE $PG_DB" >/dev/null
            PG_CREATED=1
            url="$PG_URL/$PG_DB?sslmode=disable"
            pgargs=(--pg-database "$PG_DB")
            ;;
        *) echo "unknown backend $backend" >&2; exit 1 ;;
    esac

    echo "== $backend: first start (migrate, bootstrap)"
    start_server "$url" "$WORK/$backend-first.log"
    local key
    key=$(grep -o 'Admin API key: tn_[A-Za-z0-9_-]*' "$WORK/$backend-first.log" | head -1 | sed 's/.*: //')
    [[ -n "$key" ]] || { cat "$WORK/$backend-first.log" >&2; echo "no admin key printed" >&2; exit 1; }
    stop_server

    echo "== $backend: seed"
    /usr/bin/time -f "seed process: %e s wall, %U s user, %S s sys, %M kB max RSS" \
        "$BENCH" seed --database-url "$url" --profile "$PROFILE"

    if [[ "$backend" == postgres ]]; then
        echo "== $backend: SQL statements per request"
        count_statements "$url" "$key" || { stop_server; echo "statement count failed"; }
    fi

    echo "== $backend: serve (fresh process)"
    start_server "$url" "$WORK/$backend.log"
    local out la0 la1
    for scenario in $SCENARIOS; do
        echo "== $backend: $scenario (concurrency $CONCURRENCY, warm-up ${WARMUP}s, ${SECS}s)"
        la0=$(cut -d' ' -f1 /proc/loadavg)
        echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
        out=$("$BENCH" load --scenario "$scenario" --url "http://127.0.0.1:$PORT" --key "$key" \
            --concurrency "$CONCURRENCY" --warmup-secs "$WARMUP" --secs "$SECS" \
            --server-pid "$SERVER_PID" --label "$backend" "${pgargs[@]}") || true
        la1=$(cut -d' ' -f1 /proc/loadavg)
        echo "$out" | grep -v '^ROW|'
        ROWS+=("$(echo "$out" | grep '^ROW|' | sed 's/^ROW//') $la0 → $la1 |")
    done
    if [[ -n "${BENCH_BROADCAST:-}" ]]; then
        echo "== $backend: broadcast to everyone"
        broadcast_queue_time "$key" || true
    fi
    # The relay scenarios get a fresh server (an empty job queue, M1's backlog drained first).
    if [[ -n "$RELAY_MODES" ]]; then
        stop_server
        echo "== $backend: serve (fresh process for the relay scenarios)"
        start_server "$url" "$WORK/$backend-relay.log"
    fi
    for mode in $RELAY_MODES; do
        echo "== $backend: relay $mode (steady: ${RELAY_RATE}/s for ${RELAY_SECS}s; burst: $RELAY_TOTAL from $RELAY_CONCURRENCY clients)"
        la0=$(cut -d' ' -f1 /proc/loadavg)
        echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
        out=$("$BENCH" relay --mode "$mode" --url "http://127.0.0.1:$PORT" --database-url "$url" \
            --rate "$RELAY_RATE" --secs "$RELAY_SECS" --total "$RELAY_TOTAL" \
            --concurrency "$RELAY_CONCURRENCY" --server-pid "$SERVER_PID" --label "$backend" \
            --drain-timeout-secs "$RELAY_DRAIN" \
            "${pgargs[@]}") || true
        la1=$(cut -d' ' -f1 /proc/loadavg)
        echo "$out" | grep -v '^ROW|'
        RELAY_ROWS+=("$(echo "$out" | grep '^ROW|' | sed 's/^ROW//') $la0 → $la1 |")
    done
    stop_server
    if [[ -n "${BENCH_KEEP:-}" ]]; then
        cp "$WORK"/*.log "$BENCH_KEEP"/ 2>/dev/null || true
    fi
    if [[ "$backend" == postgres ]]; then
        psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
        PG_CREATED=""
    fi
}

echo "machine: $(nproc) cores; $(free -g | awk '/Mem:/ {print $2 " GiB RAM"}'); $(uname -sr); $(date -u +%FT%TZ)"
for b in $BACKENDS; do
    run_backend "$b"
done

echo
echo "| backend | scenario | clients | requests | failed | req/s | p50 ms | p99 ms | server CPU ms/req | PG backends CPU ms/req | server + backends ms/req | other PG processes ms/req | server peak RSS MB | load avg (1 min) start → end |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for r in "${ROWS[@]}"; do
    echo "$r"
done
if [[ ${#RELAY_ROWS[@]} -gt 0 ]]; then
    echo
    echo "| backend | mode | shape | sign-ups | failed | sign-ups/s sent | commit→dispatched p50 ms | p99 ms | commit→processed p50 ms | p99 ms | max ms | first commit → last processed s | events processed/s | server CPU ms/sign-up | PG backends CPU ms/sign-up | server peak RSS MB | load avg (1 min) start → end |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    for r in "${RELAY_ROWS[@]}"; do
        echo "$r"
    done
fi
