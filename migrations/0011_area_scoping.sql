-- Area scoping inside PostgreSQL: the api runs each request's queries as shaobing_scoped (SET
-- LOCAL ROLE) with the caller's area prefixes in the setting shaobing.areas, and row-level
-- security keeps every row of another area out of reach, whatever a query forgets to filter.
-- No setting, no rows. Writers (alerts, matcher) and migrations keep the owning role.
--
-- The role is made outside the migrations, as it is in CloudNativePG (managed.roles in
-- deploy/k8s/base/postgres.yaml; the local stack reads the same declaration): the database's
-- owner that runs them may not create a role, nor, from PostgreSQL 16 on, grant one it does not
-- hold with ADMIN OPTION. This migration first created it and made the owner a member, for the
-- services that then connected as the owner; databases migrated then keep that, unused since
-- 0016 (the services connect as shaobing_app, which takes the role through shaobing_service).

grant usage on schema public to shaobing_scoped;
grant select, insert, update on all tables in schema public to shaobing_scoped;
grant usage on all sequences in schema public to shaobing_scoped;
alter default privileges in schema public grant select, insert, update on tables to shaobing_scoped;
alter default privileges in schema public grant usage on sequences to shaobing_scoped;

-- The LIKE patterns of the caller's areas; anything but 2-12 digits is dropped (fail closed).
create function shaobing_area_patterns() returns text[] language sql stable as $$
    select coalesce(array_agg(p || '%'), '{}')
    from unnest(string_to_array(current_setting('shaobing.areas', true), ',')) as p
    where p ~ '^[0-9]{2,12}$'
$$;

alter table enrolments enable row level security;
create policy in_callers_areas on enrolments to shaobing_scoped
    using (area_code like any (shaobing_area_patterns()));

alter table alerts enable row level security;
create policy in_callers_areas on alerts to shaobing_scoped
    using (area_code like any (shaobing_area_patterns()));

alter table alert_events enable row level security;
create policy of_visible_alerts on alert_events to shaobing_scoped
    using (exists (select from alerts a where a.id = alert_id));

alter table notifications enable row level security;
create policy in_callers_areas on notifications to shaobing_scoped
    using (area_code like any (shaobing_area_patterns()));

-- The audit trail: entries of the caller's areas are readable (those without an area by admins
-- only); any caller appends. The chain's tail is read through a definer function, since the
-- caller may not see the newest entry.
alter table audit_log enable row level security;
create policy readable_in_callers_areas on audit_log for select to shaobing_scoped
    using (area_code like any (shaobing_area_patterns())
           or (area_code is null and current_setting('shaobing.role', true) = 'admin'));
create policy appended_by_anyone on audit_log for insert to shaobing_scoped with check (true);

create function audit_log_tail_hash() returns text language sql stable security definer
    set search_path = public as $$
    select hash from audit_log order by seq desc limit 1
$$;

-- Which of these enrolments exist outside the caller's areas (an id is unique across areas, so
-- a write must be refused, not silently denied); locked until the caller's transaction ends.
create function enrolments_elsewhere(ids text[]) returns setof text language sql
    security definer set search_path = public as $$
    select enrolment_id from enrolments
    where enrolment_id = any (ids) and not area_code like any (shaobing_area_patterns())
    for update
$$;
