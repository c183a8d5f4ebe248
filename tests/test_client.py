"""client.py against a real gunicorn process."""

import json
import re
import shlex
import subprocess
import sys

import pytest

from bench.run import free_port
import client
from conftest import NUMBER_IMAGES, ROOT, TEST_IMAGES, create_key, gunicorn_serving


# the client's lines in the README's code blocks, as a newcomer runs them (the shell expands
# the globs; here ROOT.glob does)
README_CLIENT_EXAMPLES = re.findall(r"^\s+(\.venv/bin/python client\.py [^#\n]+?)\s*(?:#.*)?$",
                                    (ROOT / "README.md").read_text(), re.M)


def run_client(*args):
    return subprocess.run([sys.executable, str(ROOT / "client.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def test_every_test_image_is_read_digit_or_number_one_line_each(server_url):
    images = sorted([*TEST_IMAGES, *NUMBER_IMAGES])
    result = run_client(*images, "--url", server_url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(images) == 11
    for path, line in zip(images, lines):
        written = path.stem.split("_")[1] if path.name.startswith("number_") else path.name[0]
        assert line.startswith(f"{path}: {written}  confidence ")


@pytest.mark.parametrize("example", README_CLIENT_EXAMPLES)
def test_the_readme_s_client_examples_run_and_read_every_file(server_url, example):
    words = shlex.split(example)[2:]  # after ".venv/bin/python client.py"
    options = [word for word in words if word.startswith("--")]
    files = sorted(str(path.relative_to(ROOT)) for pattern in words if not pattern.startswith("--")
                   for path in ROOT.glob(pattern))
    result = subprocess.run([sys.executable, "client.py", *options, *files, "--url", server_url],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == len(files) > 0


def test_json_output_of_one_digit(server_url):
    result = run_client(TEST_IMAGES[0], "--digit", "--url", server_url, "--json", "--top-k", "5")
    assert result.returncode == 0
    (answer,) = json.loads(result.stdout)
    assert answer["file"] == str(TEST_IMAGES[0])
    assert answer["digit"] == int(TEST_IMAGES[0].name[0])
    assert len(answer["top"]) == 5


def test_read_prints_each_number_through_one_batch_or_one_request(server_url):
    result = run_client(*NUMBER_IMAGES, "--read", "--url", server_url)
    assert result.returncode == 0, result.stderr
    for path, line in zip(NUMBER_IMAGES, result.stdout.strip().splitlines()):
        assert line.startswith(f"{path}: {path.stem.split('_')[1]}  confidence ")
    (answer,) = json.loads(run_client(NUMBER_IMAGES[0], "--read", "--json", "--url",
                                      server_url).stdout)
    assert answer["number"] == NUMBER_IMAGES[0].stem.split("_")[1]
    assert len(answer["digits"]) == len(answer["number"])


def test_a_number_sent_as_a_digit_is_told_to_use_read(server_url):
    result = run_client(NUMBER_IMAGES[0], "--digit", "--url", server_url)
    assert result.returncode == 1
    assert "rejected (422)" in result.stderr and "POST /read" in result.stderr


def test_rejected_image_shows_the_server_detail_and_fails(server_url, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    result = run_client(TEST_IMAGES[0], text, "--url", server_url)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{TEST_IMAGES[0]}: ")
    assert "rejected (415)" in result.stderr and "is not an image" in result.stderr


def test_server_down_is_a_clear_message_and_exit_2():
    result = run_client(TEST_IMAGES[0], "--url", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 2
    assert "cannot reach the digits service" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file_is_reported(server_url, tmp_path):
    result = run_client(tmp_path / "nope.png", "--url", server_url)
    assert result.returncode == 1
    assert "cannot read the file" in result.stderr


def test_many_images_go_in_batches_of_the_given_size():
    """The server takes at most 2 files per batch: the client's default batch of 6 is refused
    as a whole, batches of 2 all pass."""
    with gunicorn_serving({"DIGITS_BATCH_MAX_FILES": "2"}) as url:
        refused = run_client(*TEST_IMAGES, "--url", url)
        batched = run_client(*TEST_IMAGES, "--url", url, "--batch-size", "2")
    assert refused.returncode == 2 and "refused the request (413" in refused.stderr
    assert batched.returncode == 0, batched.stderr
    assert [line.split(":")[0] for line in batched.stdout.splitlines()] == list(
        map(str, TEST_IMAGES))


def test_batches_stay_under_the_body_limit(tmp_path):
    import client
    sizes = {"a": 6, "b": 6, "c": 2, "d": 20, "e": 1}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
    groups = client.batches([tmp_path / name for name in sizes], size=3, max_bytes=10)
    assert [[path.name for path in group] for group in groups] == [["a"], ["b", "c"], ["d"],
                                                                   ["e"]]


def test_the_api_key_is_sent_when_given(tmp_path):
    from service import create_app
    database = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    _, key = create_key(create_app({"API_KEYS": True, "DATABASE_URL": database}), 10)
    with gunicorn_serving({"DIGITS_API_KEYS": "true", "DIGITS_DATABASE_URL": database}) as url:
        without = run_client(TEST_IMAGES[0], "--url", url)
        with_key = run_client(*TEST_IMAGES[:2], "--url", url, "--api-key", key)
    assert without.returncode == 2 and "(401: This service needs an API key" in without.stderr
    assert with_key.returncode == 0, with_key.stderr


def test_an_image_of_several_lines_prints_a_line_for_each():
    body = {"number": "12\n3.5", "confidence": 0.5, "uncertain": True,
            "lines": [{"number": "12", "confidence": 0.9, "uncertain": False},
                      {"number": "3.5", "confidence": 0.55, "uncertain": True}]}
    assert client.answer_line("page.jpg", True, body).splitlines() == [
        "page.jpg line 1: 12  confidence 0.90",
        "page.jpg line 2: 3.5  confidence 0.55  ? uncertain"]
    one = {**body["lines"][0], "lines": [body["lines"][0]]}
    assert client.answer_line("one.png", True, one) == "one.png: 12  confidence 0.90"
