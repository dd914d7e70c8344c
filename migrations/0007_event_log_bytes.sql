-- The event log keeps each message as the bytes sent to Kafka: nothing reads into it, and
-- parsing JSON on the way in and printing it on the way out cost more than the rest of a publish.
alter table event_log alter column value type bytea using convert_to(value::text, 'UTF8');
