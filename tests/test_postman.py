"""docs/digits.postman_collection.json calls every endpoint, and its own checks pass (newman)."""

import json
import shutil
import subprocess

import pytest

from conftest import ROOT

pytestmark = pytest.mark.server

COLLECTION = ROOT / "docs" / "digits.postman_collection.json"
NEWMAN = "6.2.2"


def requests_in_collection():
    items = json.loads(COLLECTION.read_text())["item"]
    return [(item["request"]["method"], "/" + "/".join(item["request"]["url"]["path"]), item)
            for item in items]


def test_collection_calls_every_endpoint_with_checks(app):
    called = {(method, path) for method, path, _ in requests_in_collection()}
    routes = {(method, rule.rule) for rule in app.url_map.iter_rules()
              if rule.endpoint != "static" for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes <= called
    for _, _, item in requests_in_collection():
        assert any(event["listen"] == "test" for event in item["event"]), item["name"]
        for field in item["request"].get("body", {}).get("formdata", []):
            if field["type"] == "file":
                assert (ROOT / field["src"]).is_file(), field["src"]


@pytest.fixture(scope="session")
def newman(tmp_path_factory):
    """newman, Postman's command-line runner, installed from the npm registry for this run."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed; the collection's checks need newman (Node.js)")
    prefix = tmp_path_factory.mktemp("newman")
    subprocess.run([npm, "install", "--prefix", str(prefix), "--silent", "--no-audit",
                    "--no-fund", f"newman@{NEWMAN}"], check=True, timeout=600)
    return prefix / "node_modules" / ".bin" / "newman"


def test_collection_checks_pass_against_gunicorn(server_url, newman):
    result = subprocess.run([str(newman), "run", str(COLLECTION), "--env-var",
                             f"baseUrl={server_url}", "--working-dir", str(ROOT),
                             "--reporters", "cli", "--color", "off"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
    assert "AssertionError" not in result.stdout
