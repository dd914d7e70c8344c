"""Each of the services' dependencies fails, or a service is killed, while a steady mixed stream
of changes flows; after the fault ends, work resumes by itself within 30 s, and everything the
stream got accepted is honoured: nothing lost, nothing doubled (tools/shaobing_dev/workload.py).
"""

from __future__ import annotations

import time

import pytest

from shaobing_dev.faults import Faults

from .conftest import readiness, recovered, through, unready


def test_the_stream_flows_before_any_fault(fault_stack, workload):
    time.sleep(5)
    recovered(fault_stack, workload)


def test_connections_dropped_in_the_middle_of_a_batch_lose_nothing(
    fault_stack, faults: Faults, workload
):
    with faults.table_locked("alerts"):  # the alerts service's insert waits on it, mid-batch
        time.sleep(3)
        assert faults.drop_connections() > 0
    recovered(fault_stack, workload)


def test_the_database_stopped_and_started_again_loses_nothing(
    fault_stack, faults: Faults, workload
):
    with faults.database_stopped():
        for service in ("ingest", "api", "alerts"):  # each says it cannot do its job, and why
            assert "database" in unready(fault_stack, service)["failures"]
        grown = through(fault_stack)
    recovered(fault_stack, workload, grown)


@pytest.mark.parametrize("table", ["alerts", "event_log"])
def test_a_table_held_by_a_lock_slows_the_stream_and_loses_nothing(
    fault_stack, faults: Faults, workload, table
):
    with faults.table_locked(table):
        grown = through(fault_stack)
    recovered(fault_stack, workload, grown)


def test_a_paused_broker_loses_nothing(fault_stack, faults: Faults, workload):
    with faults.broker_paused():
        for service in ("ingest", "api"):  # still accepting: degraded, not unavailable
            status, body = readiness(fault_stack, service)
            assert status == 200 and "kafka" in body["degraded"], (service, body)
        grown = through(fault_stack)
    recovered(fault_stack, workload, grown)


def test_a_broker_restarted_empty_is_refilled_by_the_documented_replay(
    fault_stack, faults: Faults, workload
):
    faults.restart_broker_empty()
    grown = through(fault_stack)
    assert faults.recover_broker() > 0
    recovered(fault_stack, workload, grown)


@pytest.mark.parametrize("service", ["matcher", "alerts", "ingest", "api"])
def test_a_service_killed_and_started_again_loses_nothing(
    fault_stack, faults: Faults, workload, service
):
    faults.kill(service)
    through(fault_stack, 3)
    started_again = time.monotonic()
    faults.restart(service)
    recovered(fault_stack, workload, ended=started_again)
