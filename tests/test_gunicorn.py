"""The deploy: gunicorn started from gunicorn.conf.py serves over HTTP or refuses to start."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from types import SimpleNamespace

import pytest
import requests
from gunicorn.config import Config
from gunicorn.sock import TCPSocket

from conftest import ROOT, TEST_IMAGES, output, start_gunicorn

pytestmark = pytest.mark.server


def test_serves_predictions_and_problems_over_http(server_url):
    with open(TEST_IMAGES[0], "rb") as handle:
        response = requests.post(f"{server_url}/predict", files={"image": handle}, timeout=10)
    assert response.status_code == 200
    assert response.json()["digit"] == int(TEST_IMAGES[0].name[0])
    missing = requests.get(f"{server_url}/missing", timeout=10)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"


def test_upload_over_the_limit_gets_413_over_http(server_url):
    body = b"\x00" * (10 * 1024 * 1024 + 1)
    response = requests.post(f"{server_url}/predict", files={"image": ("big.png", body)},
                             timeout=30)
    assert response.status_code == 413
    assert response.json()["title"] == "Request Entity Too Large"


def refusal(env):
    process, _ = start_gunicorn(env)
    process.wait(timeout=60)
    return process.returncode, [line for line in output(process).splitlines() if line.strip()]


def test_tampered_model_refuses_to_start_with_one_line(tmp_path):
    for name in ("model.joblib", "model.json"):
        shutil.copy(ROOT / "artifacts" / name, tmp_path / name)
    with open(tmp_path / "model.joblib", "ab") as handle:
        handle.write(b"tampered")
    code, lines = refusal({"DIGITS_MODEL_PATH": str(tmp_path / "model.joblib")})
    assert code != 0
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1 and "changed or damaged" in errors[0]
    assert not any("Traceback" in line for line in lines)


def test_missing_model_refuses_to_start_with_one_line(tmp_path):
    code, lines = refusal({"DIGITS_MODEL_PATH": str(tmp_path / "model.joblib")})
    assert code != 0
    assert [line for line in lines if line.startswith("Error:")] == [
        f"Error: model file {tmp_path / 'model.joblib'} is missing: run `python train.py` or "
        "set DIGITS_MODEL_PATH to a trained model"]


def test_model_from_another_scikit_learn_refuses_to_start_with_one_line(tmp_path):
    for name in ("model.joblib", "model.json"):
        shutil.copy(ROOT / "artifacts" / name, tmp_path / name)
    metadata = json.loads((tmp_path / "model.json").read_text())
    metadata["versions"]["scikit-learn"] = "0.24.2"
    (tmp_path / "model.json").write_text(json.dumps(metadata))
    code, lines = refusal({"DIGITS_MODEL_PATH": str(tmp_path / "model.joblib")})
    assert code != 0
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1 and "written by scikit-learn 0.24.2" in errors[0]
    assert not any("Traceback" in line for line in lines)


def test_bad_setting_refuses_to_start_with_one_line():
    code, lines = refusal({"DIGITS_MAX_PIXELS": "many"})
    assert code != 0
    assert any(line.startswith("Error: DIGITS_MAX_PIXELS='many' is not a valid int")
               for line in lines)
    assert not any("Traceback" in line for line in lines)


def test_the_config_leaves_blas_one_thread_per_worker():
    """gunicorn.conf.py sets the BLAS thread variables before numpy is first imported (through
    the service's modules), so that two workers do not each run a BLAS thread per core."""
    code = ("exec(open('gunicorn.conf.py').read())\n"
            "from threadpoolctl import threadpool_info\n"
            "print(max(pool['num_threads'] for pool in threadpool_info()))")
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment,
                            capture_output=True, text=True, check=True)
    assert result.stdout.split()[-1] == "1"


def test_sigterm_refuses_new_connections_and_still_answers_the_accepted_request(monkeypatch):
    """gunicorn.conf.py's SIGTERM handler in a worker: its listener is closed at once, so a
    new connection is refused (nginx tries the next replica), while a request accepted just
    before is still answered. gunicorn's sync worker asks the listener for its address as it
    starts each request; a closed gunicorn socket raised AttributeError there, which gunicorn
    answered with a bare 500 (seen once in a rolling restart under load)."""
    from digits.service import heap
    monkeypatch.setattr(heap, "return_large_blocks", lambda: None)  # the config's, not ours
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(variable, os.environ.get(variable, "1"))  # restored afterwards
    settings = {}
    exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), settings)
    listener = TCPSocket(("127.0.0.1", 0), Config(), SimpleNamespace(info=print))
    address = listener.getsockname()
    exits = []
    worker = SimpleNamespace(sockets=[listener],
                             handle_exit=lambda *arguments: exits.append(arguments))
    previous = signal.getsignal(signal.SIGTERM)
    try:
        client = socket.create_connection(address, timeout=5)
        accepted, _ = listener.accept()  # a request in flight when the signal comes
        settings["post_worker_init"](worker)
        signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
        assert listener.getsockname() == address
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(address, timeout=5)
        assert exits == [(signal.SIGTERM, None)]
        accepted.close()
        client.close()
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_sigterm_answers_the_connections_already_queued_instead_of_resetting_them(monkeypatch):
    """A connection the kernel queued on the listening socket while every worker was busy is
    reset when the last copy of the socket closes, after nginx has sent the POST on it (a 502:
    one request lost in two of four compose rolling restarts). gunicorn.conf.py's SIGTERM
    handler takes the queued connections off the socket before closing it, and `worker_exit`
    answers them through the worker's own `handle`."""
    from digits.service import heap
    monkeypatch.setattr(heap, "return_large_blocks", lambda: None)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(variable, os.environ.get(variable, "1"))
    settings = {}
    exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), settings)
    listener = TCPSocket(("127.0.0.1", 0), Config(), SimpleNamespace(info=print))
    handled = []

    def handle(on, client, address):
        handled.append(on)
        client.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        client.close()

    worker = SimpleNamespace(sockets=[listener], handle_exit=lambda *arguments: None,
                             handle=handle)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        queued = socket.create_connection(listener.getsockname(), timeout=5)
        queued.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")  # sent, never accepted
        settings["post_worker_init"](worker)
        signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
        settings["worker_exit"](None, worker)
        answer = queued.recv(1024)  # reset by the socket's close without the draining
        queued.close()
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert answer.startswith(b"HTTP/1.1 200 OK") and handled == [listener]
    settings["worker_exit"](None, SimpleNamespace())  # the master's call: nothing to answer


def test_a_queued_connection_its_client_gave_up_on_does_not_end_the_draining():
    """accept() may fail with ECONNABORTED for a queued connection its client reset while it
    waited; the connections queued behind it are still taken off the socket (and answered),
    and only a socket with none left ends the list."""
    settings = {}
    exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), settings)
    outcomes = [ConnectionAbortedError(), ("127.0.0.1", 1), BlockingIOError()]

    class Listener:
        def setblocking(self, flag):
            pass

        def accept(self):
            outcome = outcomes.pop(0)
            if isinstance(outcome, OSError):
                raise outcome
            return SimpleNamespace(setblocking=lambda flag: None, name="client"), outcome

    listener = Listener()
    queued = settings["_queued"](listener)
    assert [(on, accepted.name, address) for on, accepted, address in queued] == [
        (listener, "client", ("127.0.0.1", 1))]
    assert outcomes == []
