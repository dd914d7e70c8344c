-- The services read which migrations are applied (libs/shaobing_runtime/schema.py): each stays
-- unready, and starts no work in the database, until every migration its release ships is there.
-- Reading yoyo's record is all they may do with it (0016 revoked the rest from them); the owner,
-- which runs the migrations, keeps writing it. Until this migration, a service of this release
-- or later finds the record unreadable, and waits: a schema older than it needs.
grant select on _yoyo_migration to shaobing_service;
