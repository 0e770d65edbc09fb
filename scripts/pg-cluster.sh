# Start a throwaway PostgreSQL 15 cluster for the tests; meant to be sourced:
#
#   source scripts/pg-cluster.sh    # exports VERITY_TEST_PG and VERITY_REQUIRE_PG=1
#
# Installs Debian's postgresql-15 when initdb/pg_ctl are not found, runs the cluster as
# an unprivileged user (initdb refuses root: as root it creates the system user
# `verity-pg`), in a temporary directory, on a free localhost port, and stops and deletes
# it when the sourcing shell exits.

pg_bin_dir() {
  local d
  for d in /usr/lib/postgresql/15/bin "$(dirname "$(command -v pg_ctl 2>/dev/null || echo /x/x)")"; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

if ! PG_BIN="$(pg_bin_dir)"; then
  echo "==> installing Debian's postgresql-15"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  # Only the binaries are wanted: no `main` cluster started by the package.
  $SUDO mkdir -p /etc/postgresql-common
  [ -f /etc/postgresql-common/createcluster.conf ] ||
    echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
  PG_BIN="$(pg_bin_dir)"
fi

if [ "$(id -u)" = 0 ]; then
  PG_USER=verity-pg
  id -u "$PG_USER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"
  pg_as() { runuser -u "$PG_USER" -- "$@"; }
else
  PG_USER="$(id -un)"
  pg_as() { "$@"; }
fi

PG_DIR="$(mktemp -d /tmp/verity-pg.XXXXXX)"
chown "$PG_USER" "$PG_DIR" 2>/dev/null || true
PG_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

pg_cluster_stop() {
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap pg_cluster_stop EXIT

echo "==> PostgreSQL cluster in $PG_DIR on port $PG_PORT"
pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_USER" --auth=trust \
  --no-sync --encoding=UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1 ||
  { cat "$PG_DIR/initdb.log"; exit 1; }
# A test cluster: speed over durability; many parallel test connections.
pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
  -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off \
      -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
  start >/dev/null || { cat "$PG_DIR/server.log"; exit 1; }

export VERITY_TEST_PG="postgres://$PG_USER@127.0.0.1:$PG_PORT/postgres"
export VERITY_REQUIRE_PG=1
