-- Each service's relay publishes only its own topics (per-service Kafka ACLs), so the queue of
-- unpublished rows is read per topic; a row too large for the broker is set aside (the reason
-- here; it stays in the log, unpublished) so that it never blocks the rows behind it.
alter table event_log add column set_aside text;
create index event_log_unpublished_by_topic on event_log (topic, seq)
    where published_at is null and set_aside is null;
drop index event_log_unpublished;
