-- An audit trail its keeper cannot rewrite (issue 16, item 6).
--
-- TRUNCATE fires no DELETE trigger: refuse it with a trigger of its own. The owner can still
-- disable both; what it does then is found by the keyed chain and its anchors outside the
-- database (libs/shaobing_runtime/audit.py).
create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function audit_log_is_append_only();
