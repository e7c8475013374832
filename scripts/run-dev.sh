#!/usr/bin/env bash
# Runs routeapi in development mode next to a local Inngest dev server.
# Called by `make run`; ROUTEAPI and INNGEST name the binaries.
set -euo pipefail

: "${ROUTEAPI:?}" "${INNGEST:?}"
ADDR="${ROUTEAPI_ADDR:-127.0.0.1:${PORT:-3000}}"
INNGEST_PORT="${INNGEST_PORT:-8288}"
INNGEST_URL="http://127.0.0.1:${INNGEST_PORT}"
INNGEST="$(cd "$(dirname "$INNGEST")" && pwd)/$(basename "$INNGEST")"

inngest_pid=""
cleanup() {
  if [ -n "$inngest_pid" ]; then kill "$inngest_pid" 2>/dev/null || true; wait "$inngest_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT INT TERM

if curl -fsS -o /dev/null "$INNGEST_URL/health" 2>/dev/null; then
  echo "Using the Inngest dev server already running at $INNGEST_URL"
else
  workdir="${TMPDIR:-/tmp}/routeapi-inngest-dev"
  mkdir -p "$workdir"
  echo "Starting the Inngest dev server at $INNGEST_URL (log: $workdir/inngest.log)"
  # Its own directory and HOME: it reads inngest.* config files upwards from
  # its working directory and writes ~/.config/inngest/state.
  (cd "$workdir" && HOME="$workdir" exec "$INNGEST" dev --no-discovery --no-poll --host 127.0.0.1 -p "$INNGEST_PORT") >"$workdir/inngest.log" 2>&1 &
  inngest_pid=$!
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "$INNGEST_URL/health" 2>/dev/null && break
    kill -0 "$inngest_pid" 2>/dev/null || { echo "the Inngest dev server exited; see $workdir/inngest.log"; exit 1; }
    sleep 0.2
  done
fi

export ROUTEAPI_DEV="${ROUTEAPI_DEV:-1}" INNGEST_DEV="${INNGEST_DEV:-1}"
export INNGEST_BASE_URL="${INNGEST_BASE_URL:-$INNGEST_URL}" ROUTEAPI_ADDR="$ADDR"
export ROUTEAPI_LOG_FORMAT="${ROUTEAPI_LOG_FORMAT:-text}"

cookie=$("$ROUTEAPI" token --sub dev-user --email dev@example.com --name "Dev User" --ttl 24h)
token=${cookie#*=}
cat <<MSG

  routeapi      http://$ADDR   (Swagger UI: http://$ADDR/docs/)
  Inngest dev   $INNGEST_URL  (received events: $INNGEST_URL/v1/events)

  A session cookie for dev-user, valid 24h:
    $cookie

  Try it:
    curl -s http://$ADDR/api/route -H 'Content-Type: application/json' \\
      -b '$cookie' -d '{"data":"data"}'
  In Swagger UI, click Authorize and paste the token into bearerAuth:
    $token

MSG
"$ROUTEAPI"
