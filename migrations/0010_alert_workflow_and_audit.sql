-- The case worker's workflow on alerts, and the tamper-evident audit trail.
alter table alerts add column claimed_by text;
alter table alerts add column assignee text;
alter table alerts add column decided_by text;
alter table alerts add column decided_at timestamptz;
alter table alerts add column decision jsonb;  -- what was done (confirm) or why not (dismiss)
create index alerts_queue on alerts (severity_rank, due_date) where status in ('OPEN', 'CLAIMED');

-- Append-only: every entry chains the hash of the one before it (sha256 over the previous hash
-- and the entry's canonical JSON), so changing or removing a row breaks the chain from there.
create table audit_log (
    seq         bigserial primary key,
    at          timestamptz not null default clock_timestamp(),
    actor       text not null,
    role        text not null,
    action      text not null,
    object_type text not null,
    object_id   text not null,
    area_code   text,
    details     jsonb not null default '{}',
    prev_hash   text not null,
    hash        text not null
);
create index audit_log_object on audit_log (object_type, object_id, seq);
create index audit_log_area on audit_log (area_code text_pattern_ops, seq desc);

create function audit_log_is_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit_log is append-only';
end $$;
create trigger audit_log_append_only before update or delete on audit_log
    for each statement execute function audit_log_is_append_only();
