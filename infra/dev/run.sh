#!/usr/bin/env bash
# `make run`: the whole system on one machine. Starts a modern nats-server (port $NATS_PORT,
# default 4250, store in .run/nats) unless $NATS_URL answers, makes sure PostgreSQL is up and
# the database exists, migrates, and starts every function. Without BOT_TOKEN it also starts
# the stand-ins and opens the terminal chat; with BOT_TOKEN it talks to the real services and
# follows the logs. Ctrl-C (or /quit) stops everything it started.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
[ -f .env ] && { set -a; . ./.env; set +a; }
mkdir -p .run/logs
pids=()
# Stop in reverse start order: functions drain their in-flight work while NATS is still up.
cleanup() {
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    kill "${pids[$i]}" 2>/dev/null || true
    wait "${pids[$i]}" 2>/dev/null || true
  done
}
trap cleanup EXIT INT TERM

nats_port="${NATS_PORT:-4250}"
export NATS_URL="${NATS_URL:-nats://127.0.0.1:$nats_port}"
if ! (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null; then
  echo "==> starting nats-server on $nats_port (JetStream store .run/nats)"
  .tools/venv/bin/nats-server -a 127.0.0.1 -p "$nats_port" -js -sd .run/nats >.run/logs/nats.log 2>&1 &
  pids+=($!)
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null && break; sleep 0.1; done
fi

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/companion?sslmode=disable}"
db="${DATABASE_URL##*/}"; db="${db%%\?*}"
admin="${DATABASE_URL%/*}/postgres"; case "$DATABASE_URL" in *\?*) admin="$admin?${DATABASE_URL#*\?}";; esac
psql -q "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
  || { echo "==> creating database $db"; psql -q "$admin" -c "CREATE DATABASE \"$db\""; }
target/debug/migrate

if [ -z "${BOT_TOKEN:-}" ]; then
  echo "==> no BOT_TOKEN: using the local stand-ins for Telegram, the LLM and the image API"
  export BOT_TOKEN="000000:local-stand-in"
  export TELEGRAM_WEBHOOK_SECRET="${TELEGRAM_WEBHOOK_SECRET:-local-secret}"
  export TELEGRAM_API_URL="http://127.0.0.1:8081"
  export VENICE_API_BASE_URL="http://127.0.0.1:8082/api/v1" VENICE_API_KEY="local-stand-in"
  export IMAGE_API_URL="http://127.0.0.1:8083"
  export INGRESS_MODE=webhook INGRESS_ADDR="${INGRESS_ADDR:-127.0.0.1:8080}"
  export STANDIN_WEBHOOK_URL="http://$INGRESS_ADDR/webhook" STANDIN_FILES_DIR="$root/.run/files"
  target/debug/standins >.run/logs/standins.log 2>&1 &
  pids+=($!)
  local_chat=1
else
  export INGRESS_MODE="${INGRESS_MODE:-polling}"
  local_chat=0
fi

# Every folder under functions/ is one function binary, fn-<folder>; the front door starts last.
fns=()
for d in functions/*/; do d="${d%/}"; [ "${d##*/}" = ingress ] || fns+=("fn-${d##*/}"); done
fns+=(fn-ingress)
for f in "${fns[@]}"; do
  target/debug/$f >".run/logs/$f.log" 2>&1 &
  pids+=($!)
done
for f in "${fns[@]}"; do
  for _ in $(seq 1 100); do grep -q "ready" ".run/logs/$f.log" && break; sleep 0.1; done
  grep -q "ready" ".run/logs/$f.log" || { echo "ERROR: $f did not start; its log:" >&2; cat ".run/logs/$f.log" >&2; exit 1; }
done
echo "==> all ${#fns[@]} functions are up (logs in .run/logs/)"

if [ "$local_chat" = 1 ]; then
  STANDIN_TELEGRAM_URL="http://127.0.0.1:8081" target/debug/chat
else
  echo "==> talking to the real Telegram; Ctrl-C stops"
  tail -f .run/logs/fn-*.log
fi
