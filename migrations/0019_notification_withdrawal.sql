-- A notification whose conditions a change of the person's facts ended (they enrolled, died,
-- moved away; a death was retracted) is withdrawn: a NEW one becomes WITHDRAWN, one already
-- worked keeps its status, marked with when and why. Raised again, it is restored.
alter table notifications add column withdrawn_at timestamptz;
alter table notifications add column withdrawal jsonb;  -- the reason, zh-CN and English
