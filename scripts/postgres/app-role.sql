-- The database role the application runs as (web tier and workers): it reads and writes rows, and
-- nothing more. The tables, and the triggers that keep the audit log append-only, belong to the
-- owner that runs the migrations; only an owner or a superuser can drop or disable a trigger, so the
-- application cannot. Run as the owner, after the first migration, with psql:
--   psql "$OWNER_DATABASE_URL" -v app_role=kaoping_app -v app_password="…" -f scripts/postgres/app-role.sql
-- Re-running it is harmless.
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'app_role', :'app_password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app_role')
\gexec
ALTER ROLE :"app_role" NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
GRANT CONNECT ON DATABASE :"DBNAME" TO :"app_role";
GRANT USAGE ON SCHEMA public TO :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app_role";
-- Tables added by later migrations get the same rights.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app_role";
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :"app_role";
-- The audit log is appended to, never changed: refused by privilege as well as by its triggers.
REVOKE UPDATE, DELETE, TRUNCATE ON meetings_auditentry FROM :"app_role";
