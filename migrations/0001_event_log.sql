-- The durable log of everything accepted (transactional outbox and replay source).
create table event_log (
    seq          bigserial primary key,
    event_id     uuid not null unique,
    topic        text not null,
    key          text not null,
    value        jsonb not null,
    headers      jsonb not null default '{}',
    recorded_at  timestamptz,
    accepted_at  timestamptz not null default now(),
    published_at timestamptz
);
create index event_log_unpublished on event_log (seq) where published_at is null;
create index event_log_accepted_at on event_log (accepted_at);
