-- What supabase/postgres creates itself before the mounted init files run (after its
-- init-scripts/00000000000000-initial-schema.sql and auth/storage schema scripts).
-- Login roles start with POSTGRES_PASSWORD; upstream's roles.sql then ALTERs them.
-- printf, not echo: dash's echo would rewrite backslashes in the password.
\set pgpass `printf '%s' "$POSTGRES_PASSWORD"`

create role supabase_admin login superuser createdb createrole replication bypassrls password :'pgpass';

-- API roles (PostgREST switches to them from authenticator).
create role anon nologin noinherit;
create role authenticated nologin noinherit;
create role service_role nologin noinherit bypassrls;
create role authenticator login noinherit password :'pgpass';
grant anon, authenticated, service_role to authenticator;
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- Service roles.
create role supabase_auth_admin login noinherit createrole password :'pgpass';
create role supabase_storage_admin login noinherit createrole password :'pgpass';
create role supabase_functions_admin login noinherit createrole password :'pgpass';
create role supabase_realtime_admin nologin noinherit;
create role pgbouncer login password :'pgpass';
create role dashboard_user nosuperuser createdb createrole replication;

-- Extensions live in their own schema.
create schema if not exists extensions;
create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pgcrypto with schema extensions;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
grant all on schema extensions to dashboard_user;
alter role supabase_admin set search_path to public, extensions;
alter role postgres set search_path to "$user", public, extensions;

grant usage on schema public to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on sequences to postgres, anon, authenticated, service_role;

-- auth: owned by GoTrue's role, which runs its own migrations in it.
create schema if not exists auth authorization supabase_auth_admin;
grant usage on schema auth to anon, authenticated, service_role;
grant all on schema auth to postgres, dashboard_user;
alter role supabase_auth_admin set search_path = auth;

-- Helpers RLS policies call; GoTrue's migrations replace them (hence its ownership).
create or replace function auth.uid() returns uuid language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;
create or replace function auth.role() returns text language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;
create or replace function auth.email() returns text language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;
create or replace function auth.jwt() returns jsonb language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;
alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
alter function auth.jwt() owner to supabase_auth_admin;

-- storage: owned by the storage API's role.
create schema if not exists storage authorization supabase_storage_admin;
grant usage on schema storage to postgres, anon, authenticated, service_role;
grant all on schema storage to postgres, dashboard_user;
alter role supabase_storage_admin set search_path = storage;

-- realtime.
create schema if not exists realtime authorization supabase_admin;
create schema if not exists _realtime authorization supabase_admin;
grant usage on schema realtime to postgres, anon, authenticated, service_role;
grant all on schema realtime to supabase_realtime_admin;
create publication supabase_realtime;

-- GraphQL entry point PostgREST exposes.
create schema if not exists graphql_public authorization supabase_admin;
grant usage on schema graphql_public to postgres, anon, authenticated, service_role;
