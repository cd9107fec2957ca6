-- TicketNest: who may do what in PostgreSQL (issue 23, M3). Run on the primary as the
-- superuser, over the local socket, at every `cluster:up` (idempotent: it also sets the
-- passwords again) and by deploy/container/postgres-node.sh on first start. The {{…}} are
-- SCRAM-SHA-256 verifiers made from the secrets (scripts/lib/cluster-secrets.mjs), so no
-- password in clear reaches the server or its log.
--
--   postgres            superuser: operators, over the local socket (mode 700) or with its password
--   repmgr              superuser + replication: repmgr and repmgrd (clone, promote, rejoin)
--   ticketnest_owner    owns the database and its schema: runs the migrations, nothing else does
--   ticketnest_app      the APIs and writers: read and write rows, never change the schema
--   ticketnest_monitor  pg_monitor: Pgpool-II's health and replication checks, the exporters
\set ON_ERROR_STOP on
-- Roles are not bookings: applied again at every start, they need not wait for a standby
-- (with none attached, a synchronous commit would wait for ever).
SET synchronous_commit = local;

SELECT format('CREATE ROLE %I', name)
  FROM unnest(ARRAY['repmgr', 'ticketnest_owner', 'ticketnest_app', 'ticketnest_monitor']) AS name
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) \gexec

ALTER ROLE postgres PASSWORD '{{POSTGRES_VERIFIER}}';
ALTER ROLE repmgr SUPERUSER REPLICATION LOGIN PASSWORD '{{REPMGR_VERIFIER}}';
ALTER ROLE ticketnest_owner NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION LOGIN
  PASSWORD '{{OWNER_VERIFIER}}';
ALTER ROLE ticketnest_app NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION LOGIN
  PASSWORD '{{APP_VERIFIER}}';
ALTER ROLE ticketnest_monitor NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION LOGIN
  PASSWORD '{{MONITOR_VERIFIER}}';
GRANT pg_monitor TO ticketnest_monitor;

SELECT 'CREATE DATABASE repmgr OWNER repmgr'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'repmgr') \gexec
SELECT 'CREATE DATABASE ticketnest OWNER ticketnest_owner'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'ticketnest') \gexec
ALTER DATABASE ticketnest OWNER TO ticketnest_owner;
-- Nobody else connects to it (PUBLIC may, by default) or makes temporary tables there.
REVOKE ALL ON DATABASE ticketnest FROM PUBLIC;
GRANT CONNECT ON DATABASE ticketnest TO ticketnest_app, ticketnest_monitor;

\connect ticketnest
SET synchronous_commit = local;
ALTER SCHEMA public OWNER TO ticketnest_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO ticketnest_app;
-- Rows, not structure: what exists now, and (default privileges) what the owner's migrations
-- create later. No TRUNCATE, REFERENCES or TRIGGER.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ticketnest_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ticketnest_app;
ALTER DEFAULT PRIVILEGES FOR ROLE ticketnest_owner IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ticketnest_app;
ALTER DEFAULT PRIVILEGES FOR ROLE ticketnest_owner IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO ticketnest_app;
