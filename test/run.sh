#!/usr/bin/env bash
# `npm test [-- jest arguments]`: sets up what the suite needs on a Debian machine, then
# type-checks and runs jest. It installs the missing Debian packages when it may (root with
# apt-get), starts the suite's own PostgreSQL and Redis on loopback (or reuses them, left running
# by a previous run) and points the tests at them. `npm run test:stop` (--stop) stops those two.
# TEST_POSTGRES_URL / TEST_REDIS_URL name servers to use instead: then nothing is started.
set -euo pipefail
cd "$(dirname "$0")/.."

# Not the usual 5432 / 6379, so a developer's own servers are left alone; below 32768, outside
# Linux's ephemeral port range, so no outgoing connection can be holding them.
PG_PORT=15432
REDIS_PORT=16379
# One set of servers per machine on those ports, with their data, passwords and sockets in a
# directory that only its owner can write (on a machine with other users, anything they could
# write, root would follow). In the temp dir rather than the clone: run by root, the servers run
# as unprivileged users, who cannot enter a clone under /root.
SERVICES_DIR="${TMPDIR:-/tmp}/gatehouse-test-services"
PG_DIR="$SERVICES_DIR/postgres"
REDIS_DIR="$SERVICES_DIR/redis"
PG_PASSWORD_FILE="$SERVICES_DIR/postgres.password"
REDIS_PASSWORD_FILE="$SERVICES_DIR/redis.password"
REDIS_SOCKET="$REDIS_DIR/redis.sock"

say() { echo "npm test: $*" >&2; }
fail() { say "$*"; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

# A file that shows a Debian package is installed, and that package (paths as the tests find them).
required_files() {
  echo "${CHROMIUM_PATH:-/usr/bin/chromium} chromium"
  echo "${APACHE_PATH:-/usr/sbin/apache2} apache2"
  echo "${APACHE_MODULES_DIR:-/usr/lib/apache2/modules}/mod_auth_openidc.so libapache2-mod-auth-openidc"
  echo "${PGBOUNCER_PATH:-/usr/sbin/pgbouncer} pgbouncer"
  # The Django resource server of test/interop (Debian's Python, Django and gunicorn come with them).
  echo "/usr/lib/python3/dist-packages/oauth2_provider/oauth2_validators.py python3-django-oauth-toolkit"
  echo "/usr/lib/python3/dist-packages/rest_framework/permissions.py python3-djangorestframework"
  echo "/usr/lib/python3/dist-packages/gunicorn/app/wsgiapp.py python3-gunicorn"
  [ -n "${TEST_POSTGRES_URL:-}" ] || echo "/usr/lib/postgresql/*/bin/initdb postgresql"
  # Always: besides the shared Redis, the Cluster and Sentinel tests start their own
  # (test/support/redis_topologies.ts; redis-server --sentinel, redis-cli --cluster create).
  echo "/usr/bin/redis-server redis-server"
  echo "/usr/bin/redis-cli redis-tools"
}

missing_files() {
  required_files | while read -r file package; do
    compgen -G "$file" >/dev/null || echo "$file $package"
  done
}

install_packages() {
  local missing packages hint
  missing=$(missing_files)
  [ -n "$missing" ] || return 0
  packages=$(cut -d' ' -f2 <<<"$missing" | paste -sd' ')
  hint="install with: sudo apt-get install $packages (npm test run as root installs them itself)"
  if is_root && command -v apt-get >/dev/null; then
    say "installing $packages with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 $packages >/dev/null ||
      fail "apt-get install $packages failed"
    missing=$(missing_files)
    [ -n "$missing" ] || return 0
    hint="apt-get install $packages did not provide them"
  fi
  while read -r file package; do say "missing $file (Debian package $package)"; done <<<"$missing"
  fail "$hint"
}

# The servers never run as root: initdb and postgres refuse to, and Redis need not.
PG_USER=postgres
REDIS_USER=$(if id -u redis >/dev/null 2>&1; then echo redis; else echo postgres; fi)
as_user() {
  local user=$1
  shift
  if is_root; then runuser -u "$user" -- "$@"; else "$@"; fi
}

# Creates the services directory, or accepts the one there if this user made it: another user
# could have created it first (or a symbolic link in its place) to have root write where they say.
private_services_dir() {
  mkdir -m 700 "$SERVICES_DIR" 2>/dev/null || true
  check_services_dir
  # The servers' users must pass through it to their own subdirectories.
  if is_root; then chmod 711 "$SERVICES_DIR"; else chmod 700 "$SERVICES_DIR"; fi
}

check_services_dir() {
  local dir=$SERVICES_DIR remedy owner group mode
  remedy="remove it (rm -r $dir), or set TMPDIR to a directory of your own"
  [ ! -L "$dir" ] || fail "refusing $dir: it is a symbolic link (to $(readlink "$dir")); $remedy"
  [ -d "$dir" ] || fail "refusing $dir: it is not a directory; $remedy"
  read -r owner group mode < <(stat -c '%u %G %a' "$dir")
  [ "$owner" = "$(id -u)" ] || fail "refusing $dir: it belongs to $(stat -c %U "$dir"), not to $(id -un); $remedy"
  (((8#$mode & 8#002) == 0)) || fail "refusing $dir: anyone may write in it (mode $mode); $remedy"
  # Group write is harmless from the user's own group, named after them (Debian gives such users
  # umask 002, so an earlier npm test made it so).
  (((8#$mode & 8#020) == 0)) || [ "$group" = "$(id -un)" ] ||
    fail "refusing $dir: group $group may write in it (mode $mode); $remedy"
}

# A new random password, in a file only this user can read (noclobber: never through a link).
new_password() {
  rm -f "$1"
  (umask 077 && set -C && od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$1")
}

# Whether anything listens on a loopback port.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

not_ours() {
  fail "127.0.0.1:$1 is taken, but not by the $2 that npm test started from $SERVICES_DIR (another user's?): stop it, or set $3 to a server of your own"
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1; }

# Through the server's socket in the private directory, which only the server we started can
# have made: whatever answers on the TCP port, this is ours.
pg_running() { "$(pg_bin)/pg_isready" -q -h "$PG_DIR" -p "$PG_PORT"; }
pg_psql() {
  PGPASSWORD=$(<"$PG_PASSWORD_FILE") "$(pg_bin)/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U postgres "$@"
}

init_postgres() {
  local bin=$1 pwfile="$PG_DIR/initdb-password"
  rm -rf "$PG_DIR/data"
  [ -f "$PG_PASSWORD_FILE" ] || new_password "$PG_PASSWORD_FILE"
  # initdb reads the password from a file: a copy in its user's own directory while it runs.
  rm -f "$pwfile"
  as_user "$PG_USER" bash -c 'umask 077 && set -C && cat >"$1"' _ "$pwfile" <"$PG_PASSWORD_FILE"
  as_user "$PG_USER" "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=scram-sha-256 --pwfile="$pwfile" \
    -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  rm -f "$pwfile"
}

start_postgres() {
  local bin
  bin=$(pg_bin)
  # An earlier version of this script ran it with trust auth and kept no password.
  if [ -e "$PG_DIR" ] && [ ! -f "$PG_PASSWORD_FILE" ]; then
    say "replacing the PostgreSQL of an earlier npm test (no password) in $PG_DIR"
    stop_postgres
    rm -rf "$PG_DIR"
  fi
  if pg_running; then
    say "reusing PostgreSQL on 127.0.0.1:$PG_PORT"
  elif port_taken "$PG_PORT"; then
    not_ours "$PG_PORT" PostgreSQL TEST_POSTGRES_URL
  else
    say "starting PostgreSQL on 127.0.0.1:$PG_PORT (data in $PG_DIR)"
    if [ ! -d "$PG_DIR" ]; then
      mkdir -m 700 "$PG_DIR"
      if is_root; then chown "$PG_USER": "$PG_DIR"; fi
    fi
    [ -f "$PG_DIR/data/PG_VERSION" ] || init_postgres "$bin"
    # Test data need no durability: without fsync the suite's many CREATE DATABASEs are quicker.
    # 9>&-: the server must not inherit the setup lock, or it would hold it as long as it runs.
    as_user "$PG_USER" "$bin/pg_ctl" start -w -s -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" 9>&- ||
      fail "PostgreSQL did not start: see $PG_DIR/postgres.log"
  fi
  if [ "$(pg_psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]; then
    pg_psql -c 'CREATE DATABASE test'
  fi
}

# pg_ctl finds the server by the postmaster.pid of its data directory; only a server that answers
# on our socket is asked to stop: after a reboot that file may name another process.
stop_postgres() {
  if [ -f "$PG_DIR/data/PG_VERSION" ] && pg_running; then
    as_user "$PG_USER" "$(pg_bin)/pg_ctl" stop -s -m fast -D "$PG_DIR/data"
    say "stopped PostgreSQL on 127.0.0.1:$PG_PORT"
  fi
}

# Ours answers on its socket in the private directory, to our password.
redis_ours() { REDISCLI_AUTH=$(<"$REDIS_PASSWORD_FILE") redis-cli --no-auth-warning -s "$REDIS_SOCKET" "$@"; }
redis_running() { [ -f "$REDIS_PASSWORD_FILE" ] && [ -S "$REDIS_SOCKET" ] && [ "$(redis_ours ping 2>/dev/null)" = PONG ]; }
# An earlier version of this script ran Redis with no password and no socket; it is the one whose
# directory is ours.
redis_earlier() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" config get dir 2>/dev/null | sed -n 2p)" = "$REDIS_DIR" ]; }

start_redis() {
  if redis_running; then
    say "reusing Redis on 127.0.0.1:$REDIS_PORT"
    return
  fi
  if redis_earlier; then
    say "replacing the Redis of an earlier npm test (no password) on 127.0.0.1:$REDIS_PORT"
    stop_redis
  fi
  if port_taken "$REDIS_PORT"; then not_ours "$REDIS_PORT" Redis TEST_REDIS_URL; fi
  say "starting Redis on 127.0.0.1:$REDIS_PORT (no persistence)"
  # Nothing in it outlives the server: a new directory, owned by the user Redis runs as, and a
  # new password (one a server squatting the port may have been sent is never used again).
  rm -rf "$REDIS_DIR"
  mkdir -m 700 "$REDIS_DIR"
  if is_root; then chown "$REDIS_USER": "$REDIS_DIR"; fi
  new_password "$REDIS_PASSWORD_FILE"
  # The configuration on stdin: the password stays off the command line, which anyone can read.
  as_user "$REDIS_USER" redis-server - >/dev/null 9>&- <<EOF
requirepass $(<"$REDIS_PASSWORD_FILE")
bind 127.0.0.1
port $REDIS_PORT
unixsocket "$REDIS_SOCKET"
unixsocketperm 700
dir "$REDIS_DIR"
logfile "$REDIS_DIR/redis.log"
pidfile "$REDIS_DIR/redis.pid"
daemonize yes
save ""
appendonly no
EOF
  for _ in $(seq 50); do redis_running && return; sleep 0.2; done
  fail "Redis did not start: see $REDIS_DIR/redis.log"
}

stop_redis() {
  if redis_running; then
    redis_ours shutdown nosave
  elif redis_earlier; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave
  else
    return 0
  fi
  for _ in $(seq 50); do port_taken "$REDIS_PORT" || break; sleep 0.1; done
  say "stopped Redis on 127.0.0.1:$REDIS_PORT"
}

if [ "${1:-}" = --stop ]; then
  if [ -e "$SERVICES_DIR" ] || [ -L "$SERVICES_DIR" ]; then
    check_services_dir
    stop_postgres
    stop_redis
  fi
  exit
fi

install_packages
if [ -z "${TEST_POSTGRES_URL:-}" ] || [ -z "${TEST_REDIS_URL:-}" ]; then
  private_services_dir
  # Two runs at once start one set of servers; jest must not inherit the lock.
  exec 9>>"$SERVICES_DIR/lock"
  flock 9
  if [ -z "${TEST_POSTGRES_URL:-}" ]; then
    start_postgres
    export TEST_POSTGRES_URL="postgres://postgres:$(<"$PG_PASSWORD_FILE")@127.0.0.1:$PG_PORT/test"
  fi
  if [ -z "${TEST_REDIS_URL:-}" ]; then
    start_redis
    export TEST_REDIS_URL="redis://:$(<"$REDIS_PASSWORD_FILE")@127.0.0.1:$REDIS_PORT"
  fi
  exec 9>&-
fi

npm run --silent typecheck
exec node_modules/.bin/node --experimental-vm-modules node_modules/jest/bin/jest.js "$@"
