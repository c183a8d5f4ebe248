"""client.py against a real gunicorn process."""

import json
import subprocess
import sys

from bench.run import free_port
from conftest import NUMBER_IMAGES, ROOT, TEST_IMAGES, gunicorn_serving


def run_client(*args):
    return subprocess.run([sys.executable, str(ROOT / "client.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def test_one_line_per_image_with_digit_and_confidence(server_url):
    result = run_client(*TEST_IMAGES, "--url", server_url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(TEST_IMAGES)
    for path, line in zip(TEST_IMAGES, lines):
        assert line.startswith(f"{path}: {path.name[0]}  confidence ")


def test_json_output(server_url):
    result = run_client(TEST_IMAGES[0], "--url", server_url, "--json", "--top-k", "5")
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
    result = run_client(NUMBER_IMAGES[0], "--url", server_url)
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
    _, key = create_app({"API_KEYS": True, "DATABASE_URL": database}).extensions[
        "digits.keys"].create("client", 10)
    with gunicorn_serving({"DIGITS_API_KEYS": "true", "DIGITS_DATABASE_URL": database}) as url:
        without = run_client(TEST_IMAGES[0], "--url", url)
        with_key = run_client(*TEST_IMAGES[:2], "--url", url, "--api-key", key)
    assert without.returncode == 2 and "(401: This service needs an API key" in without.stderr
    assert with_key.returncode == 0, with_key.stderr
