"""client.py against a real gunicorn process."""

import json
import subprocess
import sys

from bench.run import free_port
from conftest import ROOT, TEST_IMAGES


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
