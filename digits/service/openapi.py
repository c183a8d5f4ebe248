"""The OpenAPI description of the running service: `openapi.json` cut to its configuration.

`openapi.json` describes the service with every optional feature on. Each part that only exists
with a feature carries `"x-feature": "<SETTING>"`; `openapi_document` drops the parts whose
setting is off and fills in the limits that are settings, so that a client (or schemathesis)
reads exactly what this server answers: no `/metrics` when metrics are off, no 401 without API
keys.
"""

import copy
import json
from functools import lru_cache
from pathlib import Path

FULL_DESCRIPTION = Path(__file__).with_name("openapi.json")
FEATURE = "x-feature"
# What each optional feature adds, for the description's summary line.
FEATURE_NAMES = {
    "API_KEYS": "API keys with credits (401, 402)",
    "RATE_LIMIT": "rate limiting (429)",
    "URL_FETCH": "fetching the image from a URL (JSON body on POST /predict and /read)",
    "CORS_ORIGINS": "CORS",
    "METRICS": "Prometheus metrics at /metrics",
}


@lru_cache(maxsize=1)
def _full_description():
    return json.loads(FULL_DESCRIPTION.read_text())


def openapi_document(config):
    """The OpenAPI 3.1 document (a dict) for a service running with `config`."""
    document = _without_features(copy.deepcopy(_full_description()),
                                 {name for name in FEATURE_NAMES if config[name]})
    paths = document["paths"]
    if not config["API_KEYS"]:
        for operations in paths.values():
            for operation in operations.values():
                operation.pop("security", None)
        document["components"].pop("securitySchemes")
    for path in ("/predict/batch", "/read/batch"):
        batch = paths[path]["post"]
        images = batch["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
        images["images"]["maxItems"] = config["BATCH_MAX_FILES"]
        results = batch["responses"]["200"]["content"]["application/json"]["schema"]
        results["properties"]["results"]["maxItems"] = config["BATCH_MAX_FILES"]
    reading = document["components"]["schemas"]["Reading"]["properties"]
    reading["number"]["maxLength"] = reading["digits"]["maxItems"] = config["MAX_DIGITS"]
    on = [about for name, about in FEATURE_NAMES.items() if config[name]]
    document["info"]["description"] += (f" Optional features on here: {'; '.join(on)}."
                                        if on else " No optional feature is on here.")
    return document


def _without_features(node, on):
    """`node` without the mapping entries whose `x-feature` is not in `on`, and without the
    `x-feature` markers themselves."""
    if isinstance(node, dict):
        return {key: _without_features(value, on) for key, value in node.items()
                if key != FEATURE and _is_on(value, on)}
    if isinstance(node, list):
        return [_without_features(item, on) for item in node]
    return node


def _is_on(value, on):
    """Whether `value` is unmarked, or marked with a feature that is in `on`."""
    return not isinstance(value, dict) or value.get(FEATURE, None) in {None, *on}
