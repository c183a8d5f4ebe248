"""The README stays a newcomer's ten-minute read whose configuration table is the settings
table, and every link in it and in docs/ leads somewhere."""

import json
import re
import shlex
import subprocess

import pytest

from conftest import METADATA, ROOT
from digits.service.config import SETTINGS, defaults

README = (ROOT / "README.md").read_text()
GUNICORN_VARIABLES = {"PORT", "HOST", "WEB_CONCURRENCY", "LOG_LEVEL"}  # gunicorn.conf.py's


def configuration_rows():
    """{variable: default as written} of the README's configuration table."""
    return {match[1]: match[2] for match in
            re.finditer(r"^\| `([A-Z_]+)` \| ([^|]+) \|", README, re.M)}


def test_readme_is_at_most_300_lines():
    assert len(README.splitlines()) <= 300


def test_the_configuration_table_lists_every_setting_and_nothing_else():
    documented = set(configuration_rows())
    assert documented == {f"DIGITS_{name}" for name in SETTINGS} | GUNICORN_VARIABLES


def test_the_configuration_table_gives_each_numeric_default_as_the_service_has_it():
    rows, values = configuration_rows(), defaults()
    for name, (default, kind, _, _) in SETTINGS.items():
        if default is None:  # the model's own: the README gives the shipped model's
            written = re.match(r"the model's \(([0-9.]+)\)", rows[f"DIGITS_{name}"].strip())
            assert written and kind(written[1]) == METADATA["confidence_threshold"], name
        elif kind in (int, float):
            written = re.match(r"`([0-9.]+)`", rows[f"DIGITS_{name}"].strip())
            assert written and kind(written[1]) == values[name], name


def test_every_relative_link_in_the_readme_and_docs_resolves():
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#]+)\)", page.read_text()):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.name} links to {target}"


# the curl lines of the README's and the docs' code blocks, with what each says it answers
CURL_EXAMPLES = sorted({match[1] for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
                        for match in re.finditer(r"^    (curl -F [^\n]+)$", page.read_text(),
                                                 re.M)})


@pytest.mark.parametrize("example", CURL_EXAMPLES)
def test_the_documented_curl_examples_answer_as_documented(server_url, example):
    words = [word.replace("http://localhost:8000", server_url) for word in shlex.split(example)]
    result = subprocess.run(words, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    if "/predict/batch" in example:  # a digit and a file that is no image: one answer each
        assert [("digit" in item, "error" in item) for item in body["results"]] == [
            (True, False), (False, True)]
    elif "/predict" in example:
        assert body["digit"] == 3 and not body["uncertain"] and len(body["top"]) == 2
    else:
        assert body["number"] == "2026" and len(body["digits"]) == 4
