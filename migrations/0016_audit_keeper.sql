-- An audit trail its keeper cannot rewrite (issue 16, item 6).
--
-- TRUNCATE fires no DELETE trigger: refuse it with a trigger of its own. The owner can still
-- disable both; what it does then is found by the keyed chain and its anchors outside the
-- database (libs/shaobing_runtime/audit.py).
create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function audit_log_is_append_only();

-- The services' role. Services connect as a login role that owns nothing (shaobing_app), a
-- member of shaobing_service, which holds what the services need: rows of every table, but of
-- the audit trail only SELECT and INSERT, and no DDL (the owner, which runs the migrations,
-- keeps that). The login role also bypasses row-level security, as the owner did (writers work
-- across areas); the api still takes shaobing_scoped per request, which does not. The roles and
-- their memberships are declared outside (CloudNativePG's managed.roles, which the local stack
-- plays, as for 0011); this migration first created shaobing_service where it could.

grant usage on schema public to shaobing_service;
grant select, insert, update, delete on all tables in schema public to shaobing_service;
grant usage, select on all sequences in schema public to shaobing_service;
-- Tables and sequences that later migrations create (as the same migrating role).
alter default privileges in schema public
    grant select, insert, update, delete on tables to shaobing_service;
alter default privileges in schema public grant usage, select on sequences to shaobing_service;

-- The audit trail is read and appended to, by the services and by scoped callers alike.
revoke update, delete, truncate on audit_log from shaobing_service, shaobing_scoped;
-- Migration bookkeeping is the owner's.
revoke all on _yoyo_log, _yoyo_migration, _yoyo_version, yoyo_lock
    from shaobing_service, shaobing_scoped;

-- Entries are hashed with a key the database does not hold (an HMAC, audit_chain.py) and name
-- it; those of 0010's plain sha256 chain have none, and may only come before the keyed ones.
alter table audit_log add column key_id text;
