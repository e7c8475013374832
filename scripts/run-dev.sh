#!/usr/bin/env bash
# Runs routeapi in development mode next to a local Inngest dev server.
# Called by `make run` (and `make check-ports`, `make inngest-stop`,
# `make inngest-start`); ROUTEAPI and INNGEST name the binaries.
#
#   scripts/run-dev.sh                run both; Ctrl-C, SIGTERM or SIGHUP stops both
#   scripts/run-dev.sh check-ports    exit 1 (naming the variable to change) if a port is taken
#   scripts/run-dev.sh inngest-stop   stop the dev server that run-dev started (routeapi keeps running)
#   scripts/run-dev.sh inngest-start  start it again (--no-discovery: it never probes routeapi's port)
#
# Ports: routeapi on ROUTEAPI_ADDR, else 127.0.0.1:$PORT (default 8390, clear
# of Next.js's 3000-3010 and of the ports the dev server probes for apps);
# the dev server on 127.0.0.1:$INNGEST_PORT (default 8288).
set -euo pipefail

PORT="${PORT:-8390}"
ADDR="${ROUTEAPI_ADDR:-127.0.0.1:${PORT}}"
INNGEST_PORT="${INNGEST_PORT:-8288}"
INNGEST_URL="http://127.0.0.1:${INNGEST_PORT}"
# The dev server's working directory, HOME, log and pid file: it reads
# inngest.* config files upwards from its directory and writes
# ~/.config/inngest/state. One per dev server port.
WORKDIR="${TMPDIR:-/tmp}/routeapi-inngest-dev-${INNGEST_PORT}"
# The make commands that act on this dev server: inngest-stop and
# inngest-start find it by INNGEST_PORT, so a port other than the default
# goes with them (a bare `make inngest-stop` would stop the one on 8288).
INNGEST_PORT_ARG=""
[ "$INNGEST_PORT" = 8288 ] || INNGEST_PORT_ARG=" INNGEST_PORT=$INNGEST_PORT"
PIDFILE="$WORKDIR/inngest.pid"
LOG="$WORKDIR/inngest.log"

# listening HOST PORT: something accepts TCP connections there.
listening() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

inngest_up() {
  curl -fsS -m 2 -o /dev/null "$INNGEST_URL/health" 2>/dev/null
}

# kept_clear PORT: a port make run never suggests, because a neighbour uses
# it in development (README, "Running it beside a Next.js app"): Next.js's
# 3000-3010 (next dev moves up from 3000 when it is busy), the Inngest dev
# server's 8288 and 8289, and the ports the dev server probes for apps.
kept_clear() {
  case "$1" in
    80|443|5000|5173|8000|8080|8081|8288|8289|8787|8888) return 0 ;;
  esac
  { [ "$1" -ge 3000 ] && [ "$1" -le 3010 ]; } || { [ "$1" -ge 8910 ] && [ "$1" -le 8915 ]; }
}

# free_port_above PORT [SKIP...]: the first port above PORT (at most 200
# tried) that nothing listens on on 127.0.0.1, that is not kept clear and is
# none of SKIP (the other server's port, a port already suggested); nothing
# if there is none.
free_port_above() {
  local p=$1
  shift
  for _ in $(seq 1 200); do
    p=$((p + 1))
    [ "$p" -le 65535 ] || return 1
    [[ " $* " == *" $p "* ]] && continue
    kept_clear "$p" && continue
    listening 127.0.0.1 "$p" && continue
    echo "$p"
    return 0
  done
  return 1
}

# check_ports: fail before anything is built or started if routeapi's port
# is taken, or if the dev server's port is taken by something that is not an
# Inngest dev server (a running dev server is reused). The suggested port is
# one that is free now and clear of Next.js and the dev server.
check_ports() {
  local rawhost="${ADDR%:*}" host port="${ADDR##*:}" ok=0 free="" free_inngest
  host="${rawhost#[}"; host="${host%]}"
  case "$host" in ""|0.0.0.0|::) host=127.0.0.1 ;; esac
  if listening "$host" "$port"; then
    echo "make run: port $port is taken (something already listens on $host:$port; a Next.js app?)." >&2
    free=$(free_port_above "$port" "$INNGEST_PORT") || free=""
    if [ -n "${ROUTEAPI_ADDR:-}" ]; then
      echo "  Set ROUTEAPI_ADDR to a free address${free:+, e.g.  make run ROUTEAPI_ADDR=$rawhost:$free}" >&2
    else
      echo "  Set PORT to a free port for routeapi${free:+, e.g.  make run PORT=$free}" >&2
    fi
    ok=1
  fi
  if listening 127.0.0.1 "$INNGEST_PORT" && ! inngest_up; then
    echo "make run: port $INNGEST_PORT is taken by something that is not an Inngest dev server." >&2
    free_inngest=$(free_port_above "$INNGEST_PORT" "$port" "$free") || free_inngest=""
    echo "  Set INNGEST_PORT to a free port for the dev server${free_inngest:+, e.g.  make run INNGEST_PORT=$free_inngest}" >&2
    ok=1
  fi
  return $ok
}

# owned_pid: the pid of the dev server this script started, if it still runs.
owned_pid() {
  local pid cmd
  [ -f "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # A stale pid file must not make us signal an unrelated process.
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *" dev --no-discovery "* ]] || return 1
  echo "$pid"
}

# start_inngest [detach]: start the dev server with discovery and polling
# off, so it never probes routeapi's (or the app's) port for SDK endpoints,
# and wait until it answers.
start_inngest() {
  : "${INNGEST:?}"
  local bin pid
  bin="$(cd "$(dirname "$INNGEST")" && pwd)/$(basename "$INNGEST")"
  mkdir -p "$WORKDIR"
  if [ "${1:-}" = detach ]; then
    # Its own session: it outlives the shell that started it (make inngest-start).
    (cd "$WORKDIR" && HOME="$WORKDIR" exec setsid "$bin" dev --no-discovery --no-poll --host 127.0.0.1 -p "$INNGEST_PORT") >"$LOG" 2>&1 </dev/null &
  else
    (cd "$WORKDIR" && HOME="$WORKDIR" exec "$bin" dev --no-discovery --no-poll --host 127.0.0.1 -p "$INNGEST_PORT") >"$LOG" 2>&1 </dev/null &
  fi
  pid=$!
  echo "$pid" >"$PIDFILE"
  for _ in $(seq 1 300); do
    inngest_up && return 0
    kill -0 "$pid" 2>/dev/null || { echo "the Inngest dev server exited; see $LOG" >&2; return 1; }
    sleep 0.2
  done
  echo "the Inngest dev server did not answer within 60s; see $LOG" >&2
  return 1
}

# stop_pid PID: SIGTERM, then SIGKILL after 10 s.
stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
  check-ports)
    check_ports
    exit
    ;;
  inngest-stop)
    if pid=$(owned_pid); then
      stop_pid "$pid"
      rm -f "$PIDFILE"
      echo "Stopped the Inngest dev server at $INNGEST_URL. routeapi keeps answering: requests get 202 and wait in the spool."
      echo "Start it again with: make inngest-start$INNGEST_PORT_ARG"
    elif inngest_up; then
      echo "The Inngest dev server at $INNGEST_URL was not started by make run; stop it where it runs." >&2
      exit 1
    else
      echo "No Inngest dev server is running at $INNGEST_URL."
    fi
    exit
    ;;
  inngest-start)
    if inngest_up; then
      echo "The Inngest dev server already answers at $INNGEST_URL."
      exit
    fi
    start_inngest detach
    echo "Started the Inngest dev server at $INNGEST_URL (log: $LOG). routeapi delivers what waits in the spool within a few seconds."
    exit
    ;;
  "") ;;
  *)
    echo "usage: $0 [check-ports|inngest-stop|inngest-start]" >&2
    exit 2
    ;;
esac

: "${ROUTEAPI:?}" "${INNGEST:?}"
check_ports

routeapi_pid=""
cleanup() {
  trap - EXIT INT TERM HUP
  [ -n "$routeapi_pid" ] && stop_pid "$routeapi_pid"
  # The dev server this script (or make inngest-start) started, not one that was already running.
  if [ "${started_inngest:-0}" = 1 ] && pid=$(owned_pid); then
    stop_pid "$pid"
    rm -f "$PIDFILE"
  fi
  [ -n "$routeapi_pid" ] && wait "$routeapi_pid" 2>/dev/null || true
}
# On SIGINT/SIGTERM/SIGHUP (Ctrl-C, `kill` of this script, or of make, which
# passes SIGTERM on to it) stop both, then exit with the usual status.
on_signal() {
  cleanup
  exit $((128 + $1))
}
trap cleanup EXIT
trap 'on_signal 2' INT
trap 'on_signal 15' TERM
trap 'on_signal 1' HUP

started_inngest=0
if inngest_up; then
  echo "Using the Inngest dev server already running at $INNGEST_URL"
  # Started earlier by make run / make inngest-start? Then it is ours to stop.
  owned_pid >/dev/null && started_inngest=1
else
  echo "Starting the Inngest dev server at $INNGEST_URL (log: $LOG)"
  started_inngest=1
  start_inngest
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

  Stop the Inngest dev server (routeapi keeps running and spools): make inngest-stop$INNGEST_PORT_ARG
  Start it again (the spool is delivered):                         make inngest-start$INNGEST_PORT_ARG
  Stop everything: Ctrl-C

MSG
# In the background so that the traps run as soon as a signal arrives (bash
# runs them only between commands, never while a foreground child runs).
"$ROUTEAPI" &
routeapi_pid=$!
set +e
wait "$routeapi_pid"
status=$?
routeapi_pid=""
exit $status
