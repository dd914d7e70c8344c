-- Payment integrity: an enrolment is paid at most once a month, what is approved is what is
-- paid, and a changed payout account waits for a second person.

-- What the check read of each enrolment: the payout file pays this account and amount, never
-- the enrolment as it is at export time. Items of runs still to be paid or exported again take
-- the account as it is now (what their export paid until this migration).
alter table payout_run_items
    add column payout_account      text,     -- as checked
    add column enrolment_version   integer,  -- the enrolment's version the check read
    add column changed_since_check boolean not null default false;
update payout_run_items i set payout_account = e.payout_account, enrolment_version = e.version
from enrolments e, payout_runs r
where e.enrolment_id = i.enrolment_id and r.id = i.run_id
  and r.status in ('READY', 'APPROVED', 'EXPORTED');
create index payout_run_items_changed on payout_run_items (run_id) where changed_since_check;

-- A READY run set aside ({by, at, reason}) so that an overlapping run can be started.
alter table payout_runs add column cancellation jsonb;

-- A changed payout account is not paid until someone other than who changed it confirms it.
alter table enrolments
    add column account_changed_by   text,
    add column account_changed_at   timestamptz,
    add column account_confirmed_by text,
    add column account_confirmed_at timestamptz;
create index enrolments_account_unconfirmed on enrolments (enrolment_id)
    where account_changed_by is not null and account_confirmed_by is null;

-- The runs of a month that overlap an area (one area a prefix of the other) and still count:
-- running, ready, approved or exported. A district's run blocks a street's although the
-- street's officer cannot see it, so this reads past row-level security; it answers only for
-- an area of the caller's.
create function payout_runs_overlapping(p_month text, p_area text)
returns table (id uuid, area text, status text) language sql stable security definer
set search_path = public as $$
    select r.id, r.area, r.status from payout_runs r
    where r.month = p_month and r.status in ('RUNNING', 'READY', 'APPROVED', 'EXPORTED')
      and (r.area like p_area || '%' or p_area like r.area || '%')
      and p_area like any (shaobing_area_patterns())
    order by r.started_at
$$;

-- An enrolment written after a run still to be paid read it: its item is flagged. Only items
-- are touched (never the run's row), so no lock is taken in another order than an override's.
create function payout_items_follow_enrolments() returns trigger language plpgsql
    security definer set search_path = public as $$
begin
    update payout_run_items i set changed_since_check = true
    from payout_runs r, written w
    where r.status in ('RUNNING', 'READY', 'APPROVED') and i.run_id = r.id
      and i.enrolment_id = w.enrolment_id and not i.changed_since_check
      and i.enrolment_version is distinct from w.version;
    return null;
end $$;
create trigger payout_items_on_enrolment_update after update on enrolments
    referencing new table as written for each statement
    execute function payout_items_follow_enrolments();
