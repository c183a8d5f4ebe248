"""/openapi.json describes every endpoint, and the live service keeps to it (schemathesis)."""

import schemathesis
from hypothesis import given, settings
from schemathesis import checks

from conftest import gunicorn_serving
from service import create_app


def test_every_route_is_described():
    app = create_app({"METRICS": True})  # /metrics exists only when metrics are on
    described = set(app.test_client().get("/openapi.json").get_json()["paths"])
    routes = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert described == routes


CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_schema_conformance]


def test_the_live_service_matches_its_description(server_url):
    """schemathesis generates requests for every operation from the description served by the
    running gunicorn process; every answer must be documented, match its schema, and no 5xx."""
    conforms_to_description(server_url)


def test_with_api_keys_and_metrics_on_too(tmp_path):
    with gunicorn_serving({"DIGITS_API_KEYS": "true", "DIGITS_METRICS": "true",
                           "DIGITS_DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite3'}"}) as url:
        conforms_to_description(url, max_examples=15)


def conforms_to_description(url, max_examples=40):
    """Run schemathesis' checks on every documented operation of the service at `url`."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.label for operation in operations} >= {"POST /predict", "GET /health"}
    for operation in operations:
        @settings(max_examples=max_examples, deadline=None, database=None)
        @given(case=operation.as_strategy())
        def conforms(case):
            case.call_and_validate(checks=CHECKS)

        conforms()
