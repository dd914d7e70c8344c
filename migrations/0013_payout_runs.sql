-- The pre-payment check: a payout run decides PAY, HOLD or STOP for every active enrolment of an
-- area and month, re-verified against the latest facts ingest accepted, not only raised alerts.

-- The latest facts per person, read from ingest's last row per upstream key (source_rows):
-- a death registration (the earliest date if several), the household registration.
create index source_rows_death_person on source_rows ((upper(btrim(row ->> 'id_number'))))
    where source_table = 'death.registrations';

create view person_deaths as
select upper(btrim(row ->> 'id_number')) as id_number,
       min((row ->> 'date_of_death')::date) as died_on,
       min(coalesce((row ->> 'recorded_at')::timestamp at time zone 'Asia/Shanghai', updated_at))
           as recorded_at,
       max(updated_at) as known_at  -- when ingest last accepted a registration of it
from source_rows
where source_table = 'death.registrations'
group by 1;

-- Who belongs to which enrolment, one row each, kept by a trigger on enrolments: the facts of a
-- person find their enrolments by index (the array's GIN index costs a heap recheck per probe).
create table enrolment_members (
    id_number    text not null,
    enrolment_id text not null references enrolments (enrolment_id) on delete cascade,
    primary key (id_number, enrolment_id)
);
alter table enrolment_members enable row level security;  -- no policy: no scoped reader

create index enrolment_members_enrolment on enrolment_members (enrolment_id);

-- Statement-level, with the rows the statement wrote: a batch of enrolments is one insert here.
create function enrolment_members_follow() returns trigger language plpgsql
    security definer set search_path = public as $$
begin
    delete from enrolment_members where enrolment_id in (select enrolment_id from written);
    insert into enrolment_members (id_number, enrolment_id)
    select distinct member, enrolment_id from written, unnest(household_members) as member;
    return null;
end $$;
create trigger enrolment_members_on_insert after insert on enrolments
    referencing new table as written for each statement
    execute function enrolment_members_follow();
create trigger enrolment_members_on_update after update on enrolments
    referencing new table as written for each statement
    execute function enrolment_members_follow();
insert into enrolment_members (id_number, enrolment_id)
select distinct member, enrolment_id from enrolments, unnest(household_members) as member;

create view person_registrations as
select primary_key as id_number, row ->> 'status' as status, row ->> 'area_code' as area_code
from source_rows
where source_table = 'hukou.population';

-- Months since year 0: paid months between two dates are a difference of these.
create function month_index(day date) returns integer language sql immutable as $$
    select extract(year from day)::integer * 12 + extract(month from day)::integer
$$;

create table payout_runs (
    seq              bigserial not null unique,
    id               uuid primary key,
    month            char(7) not null check (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    area             text not null check (area ~ '^[0-9]{2,12}$'),
    status           text not null default 'RUNNING',
    previous_run_id  uuid references payout_runs (id),
    started_by       text not null,
    started_at       timestamptz not null default clock_timestamp(),
    heartbeat_at     timestamptz not null default clock_timestamp(),
    finished_at      timestamptz,
    rows_total       integer not null default 0,
    rows_checked     integer not null default 0,
    totals           jsonb,
    changes          jsonb,  -- against the previous run of the month: counts of what changed
    failure          text,
    approved_by      text,
    approved_at      timestamptz,
    exported_by      text,
    exported_at      timestamptz,
    version          integer not null default 1
);
-- One run at a time per month and area; a month's approved run is final.
create unique index payout_runs_one_running on payout_runs (month, area) where status = 'RUNNING';
create unique index payout_runs_one_approved on payout_runs (month, area)
    where status in ('APPROVED', 'EXPORTED');
create index payout_runs_month on payout_runs (month, area, started_at desc);

-- No foreign key to payout_runs: only a run's worker writes its items, and a per-row key check
-- was a third of a run's time at 10^6 enrolments.
create table payout_run_items (
    run_id              uuid not null,
    enrolment_id        text not null,
    program             text not null,
    area_code           text not null,
    beneficiary_id      text not null,
    decision            text not null,  -- PAY, HOLD or STOP as checked
    reasons             jsonb not null,
    amount              numeric(12, 2) not null,
    overpaid_to_recover numeric(14, 2) not null default 0,
    critical            boolean not null default false,  -- an undecided CRITICAL alert behind it
    override            jsonb,  -- {decision, reason, by, at}: the approver's explicit decision
    primary key (run_id, enrolment_id)
);

-- Each reason found for a run, gathered from the facts' side first (few rows); the items are
-- then written slice by slice with their reasons folded in. Read by the run's worker only.
create table payout_run_reasons (
    run_id       uuid not null references payout_runs (id),
    enrolment_id text not null,
    decision     text not null,
    reason       jsonb not null,
    critical     boolean not null default false,
    to_recover   numeric(14, 2) not null default 0
);
create index payout_run_reasons_run on payout_run_reasons (run_id, enrolment_id);
alter table payout_run_reasons enable row level security;  -- no policy: no scoped reader

alter table payout_runs enable row level security;
create policy in_callers_areas on payout_runs to shaobing_scoped
    using (area like any (shaobing_area_patterns()));
alter table payout_run_items enable row level security;
create policy in_callers_areas on payout_run_items to shaobing_scoped
    using (area_code like any (shaobing_area_patterns()));
