-- An undecided alert past its due date (the payout cut-off) is escalated to the supervisors of its
-- area once: marked here, on its timeline and in the audit trail (shaobing_alerts.escalation).
alter table alerts add column escalated_at timestamptz;
create index alerts_to_escalate on alerts (due_date)
    where status in ('OPEN', 'CLAIMED') and escalated_at is null;
