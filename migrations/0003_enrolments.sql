-- api: enrolments as submitted (the payout account stays here, never on the bus).
create table enrolments (
    enrolment_id      text primary key,
    program           text not null,
    beneficiary_id    text not null,
    household_members text[] not null,
    monthly_amount    numeric(12, 2) not null,
    area_code         text not null check (area_code ~ '^[0-9]{12}$'),
    status            text not null,
    start_month       char(7) not null,
    payout_account    text not null,
    version           integer not null default 1,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now()
);
create index enrolments_beneficiary on enrolments (beneficiary_id);
create index enrolments_members on enrolments using gin (household_members);
create index enrolments_area on enrolments (area_code text_pattern_ops);
