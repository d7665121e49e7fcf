-- Schema realtime keeps its tenants in (upstream volumes/db/realtime.sql).
\set pguser `echo "${POSTGRES_USER:-postgres}"`

create schema if not exists _realtime;
alter schema _realtime owner to :pguser;
