#!/usr/bin/env bash
# Entrypoint with the contract of the official postgres image, plus what supabase/postgres does on a
# first start: its built-in roles and schemas, then init-scripts/, migrations/ (as its migrate.sh),
# then top-level init files. Arguments starting with "-" go to postgres; any other command runs as is.
set -Eeo pipefail

BUILTINS=/usr/local/share/supabase-postgres/supabase-builtins.sql
INITDIR=/docker-entrypoint-initdb.d
# Left in PGDATA until init finishes: a failed init is not mistaken for a finished one on restart.
MARKER_NAME=.supabase-init-incomplete

log() { printf '%s [entrypoint] %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*" >&2; }
die() { log "error: $*"; exit 1; }

setup_env() {
  export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
  export POSTGRES_DB="${POSTGRES_DB:-postgres}"
  # Server, psql and pg_isready all read PGPORT.
  export PGPORT="${PGPORT:-${POSTGRES_PORT:-5432}}"
  export POSTGRES_PORT="${POSTGRES_PORT:-$PGPORT}"
  MARKER="$PGDATA/$MARKER_NAME"
  DATABASE_ALREADY_EXISTS=
  if [ -s "$PGDATA/PG_VERSION" ]; then DATABASE_ALREADY_EXISTS=true; fi
}

# As root: own the directories, then run again as postgres.
prepare_dirs() {
  mkdir -p "$PGDATA" /var/run/postgresql
  chmod 00700 "$PGDATA" || :
  chmod 03777 /var/run/postgresql
  if [ "$(id -u)" = 0 ]; then
    find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
    chown postgres:postgres /var/run/postgresql
  fi
}

psql_run() {
  local user="$1"; shift
  psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc --host /var/run/postgresql \
    --username "$user" --dbname "$POSTGRES_DB" "$@"
}

init_failed() {
  die "init file $1 failed. $PGDATA is left as it is; later starts refuse to run until it is emptied."
}

# One init file: *.sh executed (or sourced if not executable), *.sql[.gz] fed to psql.
run_file() {
  local user="$1" f="$2"
  # shellcheck disable=SC1090 # init files are only known at run time
  case "$f" in
    *.sh)
      if [ -x "$f" ]; then log "running $f"; "$f" || init_failed "$f"
      else log "sourcing $f"; . "$f"; fi ;;
    *.sql)    log "running $f"; psql_run "$user" -f "$f" || init_failed "$f" ;;
    *.sql.gz) log "running $f"; gunzip -c "$f" | psql_run "$user" || init_failed "$f" ;;
    *)        log "ignoring $f" ;;
  esac
}

run_dir() {
  local user="$1" dir="$2" f
  [ -d "$dir" ] || return 0
  # Glob order is sorted (LC_COLLATE=C below keeps it byte order).
  for f in "$dir"/*; do
    [ -f "$f" ] || continue
    run_file "$user" "$f"
  done
}

init_database() {
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    die "database is uninitialized and POSTGRES_PASSWORD is not set.
  Set POSTGRES_PASSWORD (e.g. -e POSTGRES_PASSWORD=secret): it becomes the password of postgres,
  supabase_admin and the other login roles."
  fi
  if [ -n "$(ls -A "$PGDATA" 2>/dev/null)" ]; then
    die "$PGDATA is not empty but holds no database (no PG_VERSION); refusing to initialize over it."
  fi
  log "initializing database in $PGDATA"
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of flags, as in the official image
  initdb --username=postgres --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
    $POSTGRES_INITDB_ARGS >&2
  touch "$MARKER"
  # Used when postgres runs without config_file: the same rules as /etc/postgresql/pg_hba.conf.
  cp /etc/postgresql/pg_hba.conf "$PGDATA/pg_hba.conf"

  # Temporary server on the socket only, with the caller's flags (config_file included).
  local -a opts=(-c listen_addresses= -p "$PGPORT")
  opts+=("${@:2}")
  pg_ctl -D "$PGDATA" -o "$(printf '%q ' "${opts[@]}")" -w -t 120 start >&2

  export PGHOST=/var/run/postgresql PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
  if [ "$POSTGRES_DB" != postgres ]; then
    log "creating database $POSTGRES_DB"
    psql_run postgres --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  log "creating supabase roles, schemas and extensions"
  psql_run postgres -q -f "$BUILTINS"
  # Official image contract: a POSTGRES_USER that is not built in becomes a superuser.
  if [ -n "${POSTGRES_USER:-}" ]; then
    psql_run postgres -q --set u="$POSTGRES_USER" <<'EOSQL'
\set pgpass `printf '%s' "$POSTGRES_PASSWORD"`
select not exists (select from pg_roles where rolname = :'u') as missing \gset
\if :missing
  create role :"u" login superuser password :'pgpass';
\endif
EOSQL
  fi

  # migrate.sh order: init-scripts as postgres, migrations as supabase_admin.
  run_dir postgres "$INITDIR/init-scripts"
  run_dir supabase_admin "$INITDIR/migrations"
  run_dir postgres "$INITDIR"

  pg_ctl -D "$PGDATA" -m fast -w stop >&2
  unset PGHOST PGPASSWORD
  rm -f "$MARKER"
  log "init finished; starting postgres"
}

main() {
  if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi
  # Only the server goes through setup; anything else (psql, bash, pg_dump) runs directly.
  if [ "$1" != postgres ] || [[ " $* " =~ \ (-V|--version|--help|--describe-config|-C)\  ]]; then
    exec "$@"
  fi
  setup_env
  if [ "$(id -u)" = 0 ]; then
    prepare_dirs
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
  fi
  prepare_dirs
  export LC_COLLATE=C
  if [ -e "$MARKER" ]; then
    die "a previous first-start initialization of $PGDATA failed (see that run's log); the database
  may lack roles or schemas. Empty the volume and start again to re-run init."
  fi
  if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
    init_database "$@"
  else
    log "database in $PGDATA already initialized; skipping init"
  fi
  exec "$@"
}

main "$@"
