"""CORS (DIGITS_CORS_ORIGINS): the listed origins may call the API from a browser; no CORS
headers for any other origin, and none at all by default."""

import pytest

from digits.service.config import ConfigError
from service import create_app

PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization"}


@pytest.fixture
def cors_client():
    return create_app({"TESTING": True, "CORS_ORIGINS": "https://a.example, http://localhost:3000"}
                      ).test_client()


@pytest.mark.parametrize("origin", ["https://a.example", "http://localhost:3000"])
def test_a_listed_origin_passes_the_preflight(cors_client, origin):
    response = cors_client.options("/predict", headers={"Origin": origin, **PREFLIGHT})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()


def test_answers_and_problems_carry_the_header_for_a_listed_origin(cors_client):
    headers = {"Origin": "https://a.example"}
    assert cors_client.get("/health", headers=headers).headers[
        "Access-Control-Allow-Origin"] == "https://a.example"
    problem = cors_client.post("/predict", data={}, headers=headers)
    assert problem.status_code == 400
    assert problem.headers["Access-Control-Allow-Origin"] == "https://a.example"
    assert "Retry-After" in problem.headers["Access-Control-Expose-Headers"]


def test_another_origin_gets_no_cors_headers(cors_client):
    response = cors_client.options("/predict", headers={"Origin": "https://evil.example",
                                                        **PREFLIGHT})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_off_by_default(client):
    response = client.options("/predict", headers={"Origin": "https://a.example", **PREFLIGHT})
    assert not [name for name in response.headers.keys() if name.startswith("Access-Control")]


@pytest.mark.parametrize("setting", ["a.example", "https://a.example/path", "ftp://a.example"])
def test_an_origin_that_is_not_one_refuses_to_start(setting):
    with pytest.raises(ConfigError, match="is not an origin"):
        create_app({"CORS_ORIGINS": setting})
