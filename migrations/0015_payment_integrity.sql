-- Payment integrity: an enrolment is paid at most once a month.

-- A READY run set aside ({by, at, reason}) so that an overlapping run can be started.
alter table payout_runs add column cancellation jsonb;

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
