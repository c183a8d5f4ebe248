"""Prometheus metrics (DIGITS_METRICS) at GET /metrics: requests by endpoint and status,
latency, predictions by digit, rejected uploads by reason; summed over gunicorn workers."""

import io
import re

import pytest
import requests

from conftest import NUMBER_IMAGES, TEST_IMAGES, gunicorn_serving, parallel_predictions
from service import create_app


def sample(text, name, **labels):
    """The value of one series in Prometheus' text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    match = re.search(rf"^{name}\{{{re.escape(wanted)}\}} (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def test_counts_requests_predictions_rejections_and_latency():
    client = create_app({"TESTING": True, "METRICS": True}).test_client()
    for path in TEST_IMAGES:
        client.post("/predict", data={"image": (io.BytesIO(path.read_bytes()), path.name)})
    client.post("/predict", data={"image": (io.BytesIO(b"not an image"), "a.txt")})
    client.post("/predict/batch", data={"images": [(io.BytesIO(b"junk"), "b.txt")]})
    client.get("/no/such/page/12345")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert sample(text, "digits_http_requests_total", endpoint="/predict", method="POST",
                  status="200") == len(TEST_IMAGES)
    assert sample(text, "digits_http_requests_total", endpoint="/predict", method="POST",
                  status="415") == 1
    assert sample(text, "digits_http_requests_total", endpoint="unmatched", method="GET",
                  status="404") == 1
    assert "12345" not in text  # raw paths never become labels
    for path in TEST_IMAGES:
        assert sample(text, "digits_predictions_total", digit=path.name[0]) >= 1
    assert sum(sample(text, "digits_predictions_total", digit=str(d)) for d in range(10)) == len(
        TEST_IMAGES)
    assert sample(text, "digits_rejected_uploads_total", reason="unsupported-image") == 2
    assert sample(text, "digits_http_request_duration_seconds_count",
                  endpoint="/predict") == len(TEST_IMAGES) + 1
    assert sample(text, "digits_http_request_duration_seconds_bucket", endpoint="/predict",
                  le="+Inf") == len(TEST_IMAGES) + 1


def test_read_counts_its_requests_each_digit_read_and_its_rejections():
    client = create_app({"TESTING": True, "METRICS": True}).test_client()
    number = NUMBER_IMAGES[0]
    client.post("/read", data={"image": (io.BytesIO(number.read_bytes()), number.name)})
    client.post("/predict", data={"image": (io.BytesIO(number.read_bytes()), number.name)})
    text = client.get("/metrics").get_data(as_text=True)
    assert sample(text, "digits_http_requests_total", endpoint="/read", method="POST",
                  status="200") == 1
    digits = number.stem.split("_")[1]
    for digit in set(digits):
        assert sample(text, "digits_predictions_total", digit=digit) == digits.count(digit)
    assert sample(text, "digits_rejected_uploads_total", reason="several-digits") == 1


def test_off_by_default(client):
    assert client.get("/metrics").status_code == 404


@pytest.mark.server
def test_counts_are_summed_over_gunicorn_workers():
    with gunicorn_serving({"DIGITS_METRICS": "true"}, workers=2) as url:
        statuses = parallel_predictions(url, 32, TEST_IMAGES[0].read_bytes())
        statuses += parallel_predictions(url, 8, b"not an image")
        scrapes = [requests.get(f"{url}/metrics", timeout=10).text for _ in range(6)]
    assert statuses.count(200) == 32 and statuses.count(415) == 8
    for text in scrapes:  # whichever worker answers, it reports every worker's counts
        assert sample(text, "digits_http_requests_total", endpoint="/predict", method="POST",
                      status="200") == 32
        assert sample(text, "digits_predictions_total", digit=TEST_IMAGES[0].name[0]) == 32
        assert sample(text, "digits_rejected_uploads_total", reason="unsupported-image") == 8
