-- Policy finds the person (政策找人): whom to contact about which benefit. One row per
-- (policy, person, period): the id is deterministic in them, so re-sends add nothing.
create table notifications (
    seq            bigserial not null unique,
    id             uuid primary key,
    policy_id      text not null,
    policy_version integer not null,
    benefit        text not null,
    stage          text not null,
    period         text not null,
    id_number      text not null,
    area_code      text not null check (area_code ~ '^[0-9]{12}$'),
    status         text not null default 'NEW',
    evidence       jsonb not null,
    explanation    jsonb not null,
    raised_at      timestamptz not null,
    stored_at      timestamptz not null default clock_timestamp(),
    version        integer not null default 1
);
create index notifications_area_seq on notifications (area_code text_pattern_ops, seq desc);
create index notifications_id_number on notifications (id_number);
