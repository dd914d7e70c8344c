"""schemathesis against the api's OpenAPI document: whatever a client sends, never a 5xx.

The caller is an admin of a city no other test uses, so what the fuzzer creates or changes
stays out of the other tests' areas while every handler still runs its queries. The CLI runs
the fuzzing (its pytest plugin does not follow pytest 9 yet); its report is in the failure.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from shaobing_dev.stack import Stack
from shaobing_runtime.access import Role

from .conftest import token

FUZZ_AREA = "320102"


def test_no_request_makes_the_api_fail(stack: Stack) -> None:
    bearer = token(Role.ADMIN, [FUZZ_AREA])["authorization"]
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{stack.url('api')}/openapi.json",
            f"--header=Authorization: {bearer}",
            "--checks=not_a_server_error",
            "--max-examples=30",
            "--seed=20261126",
            "--request-timeout=30",
            "--workers=1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


def test_a_nul_character_in_a_query_is_a_422_naming_the_parameter(stack) -> None:
    headers = token(Role.ADMIN, [FUZZ_AREA])
    url = f"{stack.url('api')}/v1/alerts/queue?assignee=a%00b&program=DIBAO"

    response = httpx.get(url, headers=headers)

    assert response.status_code == 422
    reason = "contains a NUL character"
    assert response.json()["errors"] == [{"field": "assignee", "reason": reason}]
