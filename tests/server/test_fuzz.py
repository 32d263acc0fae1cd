"""Schema-driven fuzzing of the real server: valid and invalid requests from the OpenAPI document.

Schemathesis draws requests (positive and negative) for every operation of
the server's own OpenAPI document; Hypothesis runs a fixed number per
operation, so the run is bounded. Whatever it sends, no 5xx.
"""

from __future__ import annotations

import signal

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.server.conftest import Server

EXAMPLES = 60


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory):
    server = Server(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'server.db'}").start()
    server.token = server.enroll("team-fuzz", role="lead")
    yield server
    server.kill(signal.SIGTERM)


def test_no_request_makes_the_server_fail(fuzzed_server):
    schema = schemathesis.openapi.from_url(fuzzed_server.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/push", "/api/v1/pull", "/api/v1/summary", "/api/v1/export"}
    headers = {"Authorization": f"Bearer {fuzzed_server.token}"}
    failures: list[str] = []
    calls = 0

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def run(case):
                nonlocal calls
                calls += 1
                response = case.call(headers=headers, timeout=30)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.path} -> {response.status_code}: {response.text[:200]}")

            try:
                run()
            except Unsatisfiable:
                pass  # nothing invalid to send to it (health takes no input)
    print(f"{calls} fuzzed requests over {len(operations)} operations")
    assert failures == []
