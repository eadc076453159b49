#!/usr/bin/env bash
# The public pages under load, each against /healthz in the same run (see BENCHMARKS.md).
#
# For each backend (SQLite, PostgreSQL) and each ledger (the demo one, then 1,000,000
# donations over 100,000 supporters, about 1 in 1,000 shown publicly), starts the release
# build of Obole and drives every public page with wrk (2 threads, 64 connections,
# `Accept-Encoding: gzip, br`), then prints one table: requests/s, p50 and p99 of each page,
# as measured and as a ratio to /healthz, and the server's peak resident memory.
#
#   benches/pages.sh                      # everything (~15 min; seeding 1M rows is most of it)
#   BACKENDS=sqlite LEDGERS=demo DURATION=5 benches/pages.sh
#
# Needs wrk, sqlite3 and psql (Debian: wrk, sqlite3, postgresql-client) and PostgreSQL at
# $PG_URL. The 1M databases are kept between runs (in $BENCH_DIR and as database
# obole_bench_1m) and reused when complete; RESEED=1 builds them again.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
BACKENDS=${BACKENDS:-"sqlite postgres"}
LEDGERS=${LEDGERS:-"demo 1m"}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
BENCH_DIR=${BENCH_DIR:-/var/tmp/obole-bench}
PORT=${PORT:-3917}
CAMPAIGN=le-sport-pour-grandir
PAGES=(/healthz / "/campagnes/$CAMPAIGN" /projets/peps "/api/v1/campaigns/$CAMPAIGN"
    "/campagnes/$CAMPAIGN/don")

for tool in wrk sqlite3 psql curl; do
    command -v "$tool" >/dev/null || { echo "pages.sh: $tool is missing" >&2; exit 1; }
done
cargo build --release --locked --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/obole
mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d)
SERVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

# The database URL for a backend and ledger, seeded when needed.
database() {
    local backend=$1 ledger=$2
    case "$backend/$ledger" in
    sqlite/demo)
        echo "sqlite://$WORK/demo.db" ;;
    postgres/demo)
        psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS obole_bench_demo" \
            -c "CREATE DATABASE obole_bench_demo" >/dev/null
        echo "$PG_URL/obole_bench_demo" ;;
    sqlite/1m)
        local file=$BENCH_DIR/1m.db
        if [ -n "${RESEED:-}" ] || [ "$(donations "sqlite3 $file")" != 1000000 ]; then
            rm -f "$file" "$file-wal" "$file-shm"
            DATABASE_URL="sqlite://$file" "$BIN" migrate >&2
            sqlite3 -bail "$file" <benches/seed-1m-sqlite.sql >/dev/null
        fi
        echo "sqlite://$file" ;;
    postgres/1m)
        local url=$PG_URL/obole_bench_1m
        if [ -n "${RESEED:-}" ] || [ "$(donations "psql -qtA $url")" != 1000000 ]; then
            psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS obole_bench_1m" \
                -c "CREATE DATABASE obole_bench_1m" >/dev/null
            DATABASE_URL="$url" "$BIN" migrate >&2
            psql -q "$url" -v ON_ERROR_STOP=1 -f benches/seed-1m-postgres.sql >/dev/null
        fi
        echo "$url" ;;
    esac
}

# How many donations a database holds (empty when it has none or does not exist).
donations() {
    $1 "SELECT COUNT(*) FROM donations" 2>/dev/null || true
}

# wrk's line for a percentile ("50%" or "99%"), in milliseconds.
percentile() {
    awk -v p="$1" '$1 == p {
        v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
        if (unit == "us") v /= 1000; else if (unit == "s") v *= 1000
        printf "%.2f", v }' "$2"
}

printf '| backend | ledger | page | req/s | of /healthz | p50 (ms) | p99 (ms) | p99 / healthz p99 |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for backend in $BACKENDS; do
    for ledger in $LEDGERS; do
        url=$(database "$backend" "$ledger")
        mkdir -p "$WORK/data-$backend-$ledger"
        DATABASE_URL=$url DATA_DIR="$WORK/data-$backend-$ledger" PORT=$PORT RUST_LOG=warn \
            "$BIN" serve >"$WORK/server.log" 2>&1 &
        SERVER=$!
        for _ in $(seq 100); do
            curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
            sleep 0.2
        done
        for page in "${PAGES[@]}"; do
            curl -sf -o /dev/null "http://127.0.0.1:$PORT$page" || {
                echo "pages.sh: GET $page failed on $backend/$ledger" >&2; exit 1; }
        done
        base_rate= base_p99=
        for page in "${PAGES[@]}"; do
            out=$WORK/wrk.txt
            wrk -t2 -c64 -d"${DURATION}s" --latency -H 'Accept-Encoding: gzip, br' \
                "http://127.0.0.1:$PORT$page" >"$out"
            if grep -q "Non-2xx" "$out"; then
                echo "pages.sh: errors on $page ($backend/$ledger):" >&2; cat "$out" >&2; exit 1
            fi
            rate=$(awk '/^Requests\/sec/ {printf "%d", $2}' "$out")
            p50=$(percentile 50% "$out")
            p99=$(percentile 99% "$out")
            [ -z "$base_rate" ] && base_rate=$rate base_p99=$p99
            awk -v b="$backend" -v l="$ledger" -v pg="$page" -v r="$rate" -v br="$base_rate" \
                -v p50="$p50" -v p99="$p99" -v bp="$base_p99" 'BEGIN {
                printf "| %s | %s | `%s` | %d | %d %% | %s | %s | %.2f |\n",
                    b, l, pg, r, 100 * r / br, p50, p99, p99 / bp }'
        done
        rss=$(awk '/^VmHWM/ {printf "%d", $2 / 1024}' "/proc/$SERVER/status")
        printf '| %s | %s | peak resident memory | %s MB | | | | |\n' "$backend" "$ledger" "$rss"
        kill "$SERVER"
        wait "$SERVER" 2>/dev/null || true
        SERVER=
    done
done
