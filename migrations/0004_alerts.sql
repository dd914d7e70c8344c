-- alerts: the queue case workers clear, and the timeline of each alert.
create table alerts (
    seq             bigserial not null unique,
    id              uuid primary key,
    rule_id         text not null,
    rule_version    integer not null,
    fact_key        text not null,
    enrolment_id    text not null,
    program         text not null,
    id_number       text not null,
    area_code       text not null check (area_code ~ '^[0-9]{12}$'),
    severity        text not null,
    severity_rank   smallint not null,
    action          text not null,
    status          text not null default 'OPEN',
    due_date        date not null,
    overpaid_months integer not null,
    overpaid_amount numeric(14, 2) not null,
    evidence        jsonb not null,
    explanation     jsonb not null,
    raised_at       timestamptz not null,
    ingested_at     timestamptz,
    stored_at       timestamptz not null default clock_timestamp(),
    correlation_id  text,
    version         integer not null default 1
);
-- The same fact never raises two open alerts for the same enrolment and rule.
create unique index alerts_one_open on alerts (enrolment_id, rule_id, fact_key)
    where status in ('OPEN', 'CLAIMED');
create index alerts_area_seq on alerts (area_code text_pattern_ops, seq desc);
create index alerts_status_seq on alerts (status, seq desc);
create index alerts_enrolment on alerts (enrolment_id);
create index alerts_id_number on alerts (id_number);

create table alert_events (
    seq      bigserial primary key,
    alert_id uuid not null references alerts (id),
    kind     text not null,
    actor    text not null,
    at       timestamptz not null default now(),
    details  jsonb not null default '{}'
);
create index alert_events_alert on alert_events (alert_id, seq);
