-- Withdrawn alerts (the facts behind them were retracted): an undecided alert becomes WITHDRAWN;
-- a decided one keeps its decision, marked with when its facts were retracted.
alter table alerts add column withdrawn_at timestamptz;
alter table alerts add column withdrawal jsonb;  -- the reason, zh-CN and English
