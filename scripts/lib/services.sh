# Throwaway PostgreSQL, Redis and SMTP servers for the tests, each on a free port of 127.0.0.1
# and with its files in one temporary folder. Source common.sh first, then call
# kinlink_start_services, and arrange for kinlink_stop_services to run on exit.
#
# Exported for the tests:
#   KINLINK_TEST_POSTGRES_URL       postgres://kinlink:<password>@127.0.0.1:<port>/postgres
#                                   (role kinlink, not a superuser, with CREATEDB)
#   KINLINK_TEST_REDIS_URL          redis://127.0.0.1:<port>
#   KINLINK_TEST_REDIS_SERVER_BIN   path of redis-server, for tests that run their own
#   KINLINK_TEST_SMTP_URL           smtp://127.0.0.1:<port> (no TLS, no AUTH)
#   KINLINK_TEST_SMTP_DIR           folder where each accepted message appears as a .eml file
#                                   with its envelope in a .json file of the same name

# aiosmtpd comes from Debian's python3-aiosmtpd, which only Debian's interpreter can import. A
# python3 earlier on PATH (pyenv, a virtualenv) usually lacks it.
KINLINK_SYSTEM_PYTHON=${KINLINK_SYSTEM_PYTHON:-/usr/bin/python3}

# Debian packages that the services need.
# shellcheck disable=SC2034 # used by the scripts that source this file
KINLINK_SERVICE_PACKAGES=(postgresql redis-server python3-aiosmtpd)

KINLINK_SERVICES_DIR=
KINLINK_PG_BINDIR=
KINLINK_PG_DATA=
KINLINK_REDIS_PID=
KINLINK_SMTP_PID=

# How many times a service start is tried, each time on a new port, because another process
# can take a port between kinlink_free_port and the server's bind.
KINLINK_START_ATTEMPTS=3

# Prints a TCP port of 127.0.0.1 that was free a moment ago.
kinlink_free_port() {
  "$KINLINK_SYSTEM_PYTHON" -c '
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])'
}

# Runs the command after $1 and $2 every 0.2 s until it succeeds, for up to $1 seconds. Stops
# early and fails if process $2 has exited. Pass "" as $2 to watch no process.
kinlink_wait_until() {
  local timeout_s=$1 pid=$2
  shift 2
  local tries=$((timeout_s * 5))
  while ((tries-- > 0)); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    sleep 0.2
  done
  return 1
}

# Returns 0 if the Redis server on 127.0.0.1 port $1 is process $2. Comparing the process id
# rules out another server that took the port first.
kinlink_redis_is_ours() {
  # redis-cli has no reply timeout, and a process on the port that never replies would block it.
  timeout 2 redis-cli -h 127.0.0.1 -p "$1" info server 2>/dev/null |
    grep -q "^process_id:$2"$'\r'"\?$"
}

# Runs a command as the postgres user when this shell is root, because PostgreSQL refuses to
# run as root.
kinlink_as_postgres() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Stops process $1 with SIGTERM, then with SIGKILL if it is still running after 10 s.
kinlink_stop_process() {
  local pid=$1 tries=50
  kill -TERM "$pid" 2>/dev/null || return 0
  while ((tries-- > 0)) && kill -0 "$pid" 2>/dev/null; do
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    kinlink_warn "process $pid did not stop after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# Prints the last lines of log file $1 to stderr, to explain a failed start.
kinlink_show_log() {
  if [[ -f $1 ]]; then
    printf -- '--- last lines of %s ---\n' "$1" >&2
    tail -n 20 "$1" >&2
  fi
}

kinlink_start_postgres() {
  # The newest installed major version, if Debian has more than one.
  local bindirs=(/usr/lib/postgresql/*/bin/initdb)
  KINLINK_PG_BINDIR=$(printf '%s\n' "${bindirs[@]%/initdb}" | sort -V | tail -n 1)
  if [[ ! -x $KINLINK_PG_BINDIR/initdb ]]; then
    kinlink_warn "PostgreSQL server binaries not found under /usr/lib/postgresql (package postgresql)"
    return 1
  fi

  local folder=$KINLINK_SERVICES_DIR/postgres
  KINLINK_PG_DATA=$folder/data
  mkdir -p "$folder"
  if ((EUID == 0)); then
    chown postgres:postgres "$folder"
  fi

  local password
  password=$("$KINLINK_SYSTEM_PYTHON" -c 'import secrets; print(secrets.token_hex(16))')

  # Local socket connections use trust, so this script can create the role. TCP connections
  # need the password, as in production.
  if ! (cd "$folder" && kinlink_as_postgres "$KINLINK_PG_BINDIR/initdb" -D "$KINLINK_PG_DATA" \
    -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
    >"$folder/initdb.log" 2>&1); then
    kinlink_show_log "$folder/initdb.log"
    return 1
  fi

  # Durability settings are off because the cluster is deleted after the run, and they make
  # creating a database per test faster.
  kinlink_as_postgres tee -a "$KINLINK_PG_DATA/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$folder'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
CONF

  local attempt port=
  for ((attempt = 1; attempt <= KINLINK_START_ATTEMPTS; attempt++)); do
    port=$(kinlink_free_port)
    # Empty the log, so that a failure shows only this attempt's lines.
    kinlink_as_postgres truncate -s 0 "$folder/postgres.log" 2>/dev/null || true
    if (cd "$folder" && kinlink_as_postgres "$KINLINK_PG_BINDIR/pg_ctl" -D "$KINLINK_PG_DATA" \
      -l "$folder/postgres.log" -o "-p $port" -w -t 60 start >/dev/null); then
      break
    fi
    kinlink_show_log "$folder/postgres.log"
    port=
  done
  if [[ -z $port ]]; then
    kinlink_warn "PostgreSQL did not start after $KINLINK_START_ATTEMPTS attempts"
    return 1
  fi

  if ! kinlink_wait_until 30 "" "$KINLINK_PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port"; then
    kinlink_warn "PostgreSQL on 127.0.0.1:$port is not ready after 30 s"
    kinlink_show_log "$folder/postgres.log"
    return 1
  fi
  "$KINLINK_PG_BINDIR/psql" -h "$folder" -p "$port" -U postgres -d postgres -q \
    -v ON_ERROR_STOP=1 -c "CREATE ROLE kinlink LOGIN CREATEDB PASSWORD '$password'" || return 1

  export KINLINK_TEST_POSTGRES_URL="postgres://kinlink:$password@127.0.0.1:$port/postgres"
  kinlink_log "PostgreSQL is ready on 127.0.0.1:$port (data in $KINLINK_PG_DATA)"
}

kinlink_stop_postgres() {
  if [[ -z $KINLINK_PG_DATA || ! -f $KINLINK_PG_DATA/postmaster.pid ]]; then
    return 0
  fi
  if ! (cd "$KINLINK_SERVICES_DIR" && kinlink_as_postgres "$KINLINK_PG_BINDIR/pg_ctl" \
    -D "$KINLINK_PG_DATA" -m fast -w -t 30 stop >/dev/null); then
    local pid
    pid=$(head -n 1 "$KINLINK_PG_DATA/postmaster.pid" 2>/dev/null) || true
    kinlink_warn "pg_ctl stop failed, so sending SIGKILL to postmaster ${pid:-(pid unknown)}"
    if [[ -n $pid ]]; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  KINLINK_PG_DATA=
}

kinlink_start_redis() {
  if ! command -v redis-server >/dev/null; then
    kinlink_warn "redis-server not found (package redis-server)"
    return 1
  fi
  local folder=$KINLINK_SERVICES_DIR/redis
  mkdir -p "$folder"

  local attempt port
  for ((attempt = 1; attempt <= KINLINK_START_ATTEMPTS; attempt++)); do
    port=$(kinlink_free_port)
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --daemonize no --dir "$folder" --logfile "$folder/redis.log" &
    KINLINK_REDIS_PID=$!
    if kinlink_wait_until 10 "$KINLINK_REDIS_PID" kinlink_redis_is_ours "$port" "$KINLINK_REDIS_PID"; then
      export KINLINK_TEST_REDIS_URL="redis://127.0.0.1:$port"
      KINLINK_TEST_REDIS_SERVER_BIN=$(command -v redis-server)
      export KINLINK_TEST_REDIS_SERVER_BIN
      kinlink_log "Redis is ready on 127.0.0.1:$port"
      return 0
    fi
    kinlink_show_log "$folder/redis.log"
    kinlink_stop_process "$KINLINK_REDIS_PID"
    KINLINK_REDIS_PID=
  done
  kinlink_warn "Redis did not start after $KINLINK_START_ATTEMPTS attempts"
  return 1
}

kinlink_start_smtp_catcher() {
  local folder=$KINLINK_SERVICES_DIR/smtp
  local mail_dir=$folder/messages
  local catcher
  catcher="$(dirname "${BASH_SOURCE[0]}")/smtp_catcher.py"
  mkdir -p "$mail_dir"

  local attempt port
  for ((attempt = 1; attempt <= KINLINK_START_ATTEMPTS; attempt++)); do
    port=$(kinlink_free_port)
    rm -f "$folder/ready"
    "$KINLINK_SYSTEM_PYTHON" "$catcher" --host 127.0.0.1 --port "$port" --dir "$mail_dir" \
      --ready-file "$folder/ready" >"$folder/smtp.log" 2>&1 &
    KINLINK_SMTP_PID=$!
    # The catcher creates the ready file after it has bound the port, so a connection check
    # cannot mistake another server on that port for it.
    if kinlink_wait_until 10 "$KINLINK_SMTP_PID" test -s "$folder/ready"; then
      export KINLINK_TEST_SMTP_URL="smtp://127.0.0.1:$port"
      export KINLINK_TEST_SMTP_DIR=$mail_dir
      kinlink_log "SMTP catcher is ready on 127.0.0.1:$port (messages in $mail_dir)"
      return 0
    fi
    kinlink_show_log "$folder/smtp.log"
    kinlink_stop_process "$KINLINK_SMTP_PID"
    KINLINK_SMTP_PID=
  done
  kinlink_warn "SMTP catcher did not start after $KINLINK_START_ATTEMPTS attempts"
  return 1
}

# Starts PostgreSQL, Redis and the SMTP catcher in a new temporary folder and exports the
# KINLINK_TEST_* variables listed at the top of this file. Returns non-zero if any of them
# failed to start. Call kinlink_stop_services in that case too.
kinlink_start_services() {
  local parent=${TMPDIR:-/tmp}
  KINLINK_SERVICES_DIR=$(mktemp -d "$parent/kinlink-test.XXXXXX") || return 1
  # The postgres user must be able to reach its data folder inside.
  chmod 755 "$KINLINK_SERVICES_DIR"

  kinlink_start_postgres || return 1
  kinlink_start_redis || return 1
  kinlink_start_smtp_catcher || return 1
}

# Stops every service that kinlink_start_services started and deletes their folder. Safe to
# call more than once and after a partial start.
kinlink_stop_services() {
  if [[ -n $KINLINK_SMTP_PID ]]; then
    kinlink_stop_process "$KINLINK_SMTP_PID"
    KINLINK_SMTP_PID=
  fi
  if [[ -n $KINLINK_REDIS_PID ]]; then
    kinlink_stop_process "$KINLINK_REDIS_PID"
    KINLINK_REDIS_PID=
  fi
  kinlink_stop_postgres
  if [[ -n $KINLINK_SERVICES_DIR && -d $KINLINK_SERVICES_DIR ]]; then
    rm -rf -- "$KINLINK_SERVICES_DIR"
    kinlink_log "stopped the test services and removed $KINLINK_SERVICES_DIR"
  fi
  KINLINK_SERVICES_DIR=
}
