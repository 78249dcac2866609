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
# One set of servers per machine, found by their ports. In the temp dir rather than the clone:
# run by root, PostgreSQL runs as the `postgres` user, who cannot enter a clone under /root.
SERVICES_DIR="${TMPDIR:-/tmp}/gatehouse-test-services"
PG_DIR="$SERVICES_DIR/postgres"
REDIS_DIR="$SERVICES_DIR/redis"

say() { echo "npm test: $*" >&2; }
fail() { say "$*"; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

# A file that shows a Debian package is installed, and that package (paths as the tests find them).
required_files() {
  echo "${CHROMIUM_PATH:-/usr/bin/chromium} chromium"
  echo "${APACHE_PATH:-/usr/sbin/apache2} apache2"
  echo "${APACHE_MODULES_DIR:-/usr/lib/apache2/modules}/mod_auth_openidc.so libapache2-mod-auth-openidc"
  [ -n "${TEST_POSTGRES_URL:-}" ] || echo "/usr/lib/postgresql/*/bin/initdb postgresql"
  [ -n "${TEST_REDIS_URL:-}" ] || echo "/usr/bin/redis-server redis-server"
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

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1; }

# initdb and postgres refuse to run as root.
as_pg_owner() { if is_root; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_postgres() {
  local bin
  bin=$(pg_bin)
  if "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
    say "reusing PostgreSQL on 127.0.0.1:$PG_PORT"
  else
    say "starting PostgreSQL on 127.0.0.1:$PG_PORT (data in $PG_DIR)"
    mkdir -p "$PG_DIR"
    if is_root; then chown postgres: "$PG_DIR"; fi
    if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
      as_pg_owner "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
    fi
    # Test data need no durability: without fsync the suite's many CREATE DATABASEs are quicker.
    # 9>&-: the server must not inherit the setup lock, or it would hold it as long as it runs.
    as_pg_owner "$bin/pg_ctl" start -w -s -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" 9>&- ||
      fail "PostgreSQL did not start: see $PG_DIR/postgres.log"
  fi
  if [ "$("$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]; then
    "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres test
  fi
}

redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

start_redis() {
  if redis_ping; then
    say "reusing Redis on 127.0.0.1:$REDIS_PORT"
    return
  fi
  say "starting Redis on 127.0.0.1:$REDIS_PORT (no persistence)"
  mkdir -p "$REDIS_DIR"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --dir "$REDIS_DIR" --logfile "$REDIS_DIR/redis.log" 9>&-
  for _ in $(seq 50); do redis_ping && return; sleep 0.2; done
  fail "Redis did not start: see $REDIS_DIR/redis.log"
}

# Only servers that answer: a postmaster.pid left by a reboot may name another process by now.
stop_services() {
  if [ -f "$PG_DIR/data/PG_VERSION" ] && "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
    as_pg_owner "$(pg_bin)/pg_ctl" stop -s -m fast -D "$PG_DIR/data"
    say "stopped PostgreSQL on 127.0.0.1:$PG_PORT"
  fi
  if redis_ping; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave
    say "stopped Redis on 127.0.0.1:$REDIS_PORT"
  fi
}

if [ "${1:-}" = --stop ]; then
  stop_services
  exit
fi

install_packages
if [ -z "${TEST_POSTGRES_URL:-}" ] || [ -z "${TEST_REDIS_URL:-}" ]; then
  mkdir -p "$SERVICES_DIR"
  # Two runs at once start one set of servers; jest must not inherit the lock.
  exec 9>"$SERVICES_DIR/lock"
  flock 9
  if [ -z "${TEST_POSTGRES_URL:-}" ]; then
    start_postgres
    export TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PG_PORT/test"
  fi
  if [ -z "${TEST_REDIS_URL:-}" ]; then
    start_redis
    export TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
  fi
  exec 9>&-
fi

npm run --silent typecheck
exec node_modules/.bin/node --experimental-vm-modules node_modules/jest/bin/jest.js "$@"
