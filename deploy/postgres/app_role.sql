-- The role the authcheck application runs as (SECURITY finding 13, catalogue rows L1 and L2).
--
-- Run it as the role that owns the tables (the one `manage.py migrate` connects as), in the
-- authcheck database, after migrating:
--
--     psql "$OWNER_DATABASE_URL" -v ON_ERROR_STOP=1 -f deploy/postgres/app_role.sql
--     psql "$OWNER_DATABASE_URL" -c '\password authcheck_app'
--
-- then point the running service (web, workers) at it:
--     DATABASE_URL=postgres://authcheck_app:PASSWORD@db:5432/authcheck
-- and keep the owner's URL for `manage.py migrate` only.
--
-- authcheck_app can read and write the application's tables but on the audit table it may only
-- INSERT and SELECT: UPDATE, DELETE and TRUNCATE fail with "permission denied" (SQLSTATE 42501).
-- Not being the owner, it can neither disable the table's triggers nor drop them, and not being
-- a superuser it cannot SET session_replication_role = replica (which would skip them).
-- Safe to run again; it assumes the tables live in the schema "public".

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'authcheck_app') THEN
        CREATE ROLE authcheck_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
            NOBYPASSRLS;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO authcheck_app', current_database());
END
$$;

GRANT USAGE ON SCHEMA public TO authcheck_app;
REVOKE CREATE ON SCHEMA public FROM authcheck_app;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO authcheck_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO authcheck_app;

-- The audit trail is append-only for the application.
REVOKE ALL ON TABLE authcheck_auditevent FROM authcheck_app;
GRANT SELECT, INSERT ON TABLE authcheck_auditevent TO authcheck_app;

-- Tables that later migrations create (as this owner) get the same ordinary grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO authcheck_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO authcheck_app;
