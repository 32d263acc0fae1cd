"""The API describes itself: the token's scheme, every refusal a route gives, the exports' media types."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sync.server.app import create_app
from sync.server.auth import new_token, token_hash

PROTECTED = {("post", "/api/v1/push"), ("get", "/api/v1/pull"), ("get", "/api/v1/summary"), ("get", "/api/v1/export")}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = create_app(f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'server.db'}")
    with TestClient(app) as client:
        client.lead = new_token()
        client.volunteer = new_token()
        database = app.state.database
        database.enroll(team="team-doc", device_id="doc-lead", role="lead", token_hash=token_hash(client.lead))
        database.enroll(team="team-doc", device_id="doc-volunteer", role="volunteer", token_hash=token_hash(client.volunteer))
        yield client


@pytest.fixture(scope="module")
def document(client) -> dict:
    return client.get("/openapi.json").json()


def _statuses(document: dict, method: str, path: str) -> set[str]:
    return set(document["paths"][path][method]["responses"])


def test_the_document_declares_a_bearer_scheme_on_every_route_but_health(document):
    schemes = document["components"]["securitySchemes"]
    assert list(schemes.values()) == [{"type": "http", "scheme": "bearer", "description": schemes["DeviceToken"]["description"]}]
    for method, path in PROTECTED:
        assert document["paths"][path][method]["security"] == [{"DeviceToken": []}], path
    assert "security" not in document["paths"]["/api/v1/health"]["get"]


def test_the_docs_page_offers_the_authorize_button(client, document):
    # Swagger UI draws the Authorize button from the document's security schemes.
    page = client.get("/docs")
    assert page.status_code == 200 and "/openapi.json" in page.text
    assert document["components"]["securitySchemes"]


def test_each_route_lists_the_refusals_it_gives_with_their_body(document):
    assert _statuses(document, "post", "/api/v1/push") >= {"200", "400", "401", "413", "415", "422"}
    assert _statuses(document, "get", "/api/v1/pull") >= {"200", "400", "401", "422"}
    for path in ("/api/v1/summary", "/api/v1/export"):
        assert _statuses(document, "get", path) >= {"200", "400", "401", "403", "422"}
    error = {"$ref": "#/components/schemas/ErrorBody"}
    assert document["components"]["schemas"]["ErrorBody"]["properties"] == {"detail": {"title": "Detail", "type": "string"}}
    for method, path in PROTECTED:
        responses = document["paths"][path][method]["responses"]
        for status in ("400", "401", "403", "413", "415"):
            if status in responses:
                assert responses[status]["content"] == {"application/json": {"schema": error}}, (path, status)
        assert "WWW-Authenticate" in responses["401"]["headers"]


def test_the_exports_list_their_real_media_types(document):
    content = document["paths"]["/api/v1/export"]["get"]["responses"]["200"]["content"]
    assert set(content) == {"text/csv", "application/geo+json", "application/x-ndjson"}


def test_the_push_body_is_documented_with_gzip_and_per_record_verdicts(document):
    body = document["paths"]["/api/v1/push"]["post"]["requestBody"]
    assert body["required"] and body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/PushBody"}
    assert "Content-Encoding: gzip" in body["description"]
    records = document["components"]["schemas"]["PushBody"]["properties"]["records"]
    assert records["maxItems"] == 1000
    assert records["items"]["anyOf"][0]["oneOf"] == [
        {"$ref": "#/components/schemas/CallRecord"}, {"$ref": "#/components/schemas/RecoveryRecord"},
    ]


@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer    "])
def test_no_token_is_a_401_naming_the_header(client, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/api/v1/pull", headers=headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": "a device token is required: Authorization: Bearer <token>"}


def test_an_unknown_token_is_a_401_saying_so(client):
    response = client.get("/api/v1/pull", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": "unknown or revoked device token"}


def test_the_exports_answer_in_the_media_types_the_document_names(client):
    auth = {"Authorization": f"Bearer {client.lead}"}
    for format, media_type in (("csv", "text/csv"), ("geojson", "application/geo+json"), ("jsonl", "application/x-ndjson")):
        response = client.get("/api/v1/export", params={"format": format}, headers=auth)
        assert response.status_code == 200 and response.headers["content-type"].split(";")[0] == media_type


@pytest.mark.parametrize("day", ["20261125", "2026-W48-3", "2026-330", "2026-02-30", "", "٢٠٢٦-١١-٢٥"])
def test_a_day_must_be_a_calendar_date_written_yyyy_mm_dd(client, day):
    auth = {"Authorization": f"Bearer {client.lead}"}
    for path in ("/api/v1/summary", "/api/v1/export"):
        response = client.get(path, params={"day": day}, headers=auth)
        assert response.status_code == 400 and response.json() == {"detail": "day must be YYYY-MM-DD"}, (path, day)
    assert client.get("/api/v1/summary", params={"day": "2026-11-25"}, headers=auth).status_code == 200


def test_a_volunteer_is_refused_the_leads_routes_with_a_403(client):
    auth = {"Authorization": f"Bearer {client.volunteer}"}
    response = client.get("/api/v1/export", headers=auth)
    assert response.status_code == 403 and response.headers["content-type"] == "application/json"
    assert "lead" in response.json()["detail"]
