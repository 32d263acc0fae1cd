"""Schemathesis over the whole API of the real server, with every one of its checks.

What `schemathesis run URL --checks all` does, in process: the server's own OpenAPI
document drives every phase (examples, coverage, fuzzing; stateful has no links to
follow here), positive and negative data, against `fieldapp-server serve` on loopback,
on SQLite and on PostgreSQL, with a lead's token given for the document's bearer scheme.
Every response goes through all the checks: no 5xx, status codes, media types, headers
and bodies as documented, invalid data refused, valid data taken, authentication
enforced, unsupported methods refused, and so on.

The run is bounded (a fixed number of examples per operation) and reproducible (a fixed
seed, deterministic generation, no example database).
"""

from __future__ import annotations

import signal

import pytest
import schemathesis
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events

from tests.server.conftest import Server

EXAMPLES = 300
SEED = 20261127


def _all_checks() -> dict:
    load_all_checks()
    names = [check.__name__ for check in CHECKS.get_all()]
    checks: dict = {name: {"enabled": True} for name in names}
    # A push past the record cap is refused, as the protocol says, with 413 naming the limit;
    # 413 is as much a refusal of invalid data as a 400 or 422.
    checks["negative_data_rejection"]["expected-statuses"] = [
        400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429,
    ]
    return checks


@pytest.fixture(scope="module")
def fuzzed_server(database_url):
    server = Server(database_url).start()
    server.token = server.enroll("team-fuzz", role="lead")
    yield server
    server.kill(signal.SIGTERM)


def run_schemathesis(server: Server) -> dict:
    config = SchemathesisConfig.from_dict({
        "seed": SEED,
        "checks": _all_checks(),
        "workers": 1,
        "auth": {"openapi": {"DeviceToken": {"bearer": server.token}}},
        "request-timeout": 30,
        "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
        # No cache of earlier runs (and no .schemathesis/ folder in the tree): each run stands alone.
        "cache": {"enabled": False},
    })
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json", config=config)
    seen = {"operations": set(), "requests": 0, "checks": 0, "checks_by_name": {}, "failures": [], "errors": [],
            "answered": set()}
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            if event.is_test_scenario and event.status != Status.SKIP:
                seen["operations"].add(recorder.label)
            seen["requests"] += len(recorder.interactions)
            for interaction in recorder.interactions.values():
                if interaction.response is not None:
                    seen["answered"].add((recorder.label, interaction.response.status_code))
            for nodes in recorder.checks.values():
                for node in nodes:
                    seen["checks"] += 1
                    seen["checks_by_name"][node.name] = seen["checks_by_name"].get(node.name, 0) + 1
                    if node.failure_info is not None:
                        failure = node.failure_info.failure
                        seen["failures"].append(
                            f"[{event.phase.value}] {recorder.label}: {node.name}: {failure.title}: "
                            f"{failure.message[:300]}\n    {node.failure_info.code_sample[:600]}"
                        )
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            seen["errors"].append(repr(getattr(event, "value", None) or getattr(event, "exception", None))[:500])
    return seen


def test_the_whole_api_passes_every_schemathesis_check(fuzzed_server):
    seen = run_schemathesis(fuzzed_server)
    print(f"{len(seen['operations'])} operations, {seen['requests']} requests, {seen['checks']} checks run, "
          f"{len(seen['failures'])} failures; checks: {seen['checks_by_name']}")
    assert seen["errors"] == []
    assert {"GET /api/v1/health", "POST /api/v1/push", "GET /api/v1/pull", "GET /api/v1/summary",
            "GET /api/v1/export"} <= seen["operations"]
    # The token reached every route that needs it: each answered 200 at least once, not only 401s.
    assert {label for label, status in seen["answered"] if status == 200} >= seen["operations"]
    # Every check had a response to look at (a check that never ran proves nothing).
    assert {"not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance",
            "negative_data_rejection", "positive_data_acceptance", "ignored_auth"} <= set(seen["checks_by_name"])
    assert seen["failures"] == [], "\n".join(dict.fromkeys(seen["failures"]))
