"""Slow clients: how long a fast client waits for its answer while 50 others trickle uploads,
straight to gunicorn and behind nginx (deploy/nginx/digits.conf).

    python -m bench.slow_clients [--slow 50] [--workers 2]

A slow client sends its headers, then its 200 kB body at about 1 kB every half second (a phone
on a bad line); gunicorn's sync workers are each held by one until it is done or the worker is
killed after 30 s. Prints the fast client's latency with no slow clients, with them and nginx
in front, and with them straight to gunicorn (or how long it waited without an answer).
"""

import argparse
import socket
import threading
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import requests

from bench.nginx import nginx_serving
from bench.run import ROOT, start, wait_ready

BODY_BYTES = 200_000
CHUNK_BYTES = 1000
CHUNK_SECONDS = 0.5
WAIT_LIMIT = 60  # the fast client gives up after this many seconds
IMAGE = ROOT / "test_images" / "2_scan.tiff"


@contextmanager
def trickling(url, count):
    """`count` clients each sending a POST /predict body slowly; yields once every one has been
    accepted and sent its headers, and the sockets (each still unanswered while it trickles)."""
    address = urlsplit(url)
    sockets, stop = [], threading.Event()
    for _ in range(count):
        connection = socket.create_connection((address.hostname, address.port), timeout=120)
        connection.sendall(
            f"POST /predict HTTP/1.1\r\nHost: {address.netloc}\r\n"
            "Content-Type: multipart/form-data; boundary=slow\r\n"
            f"Content-Length: {BODY_BYTES}\r\n\r\n".encode())
        sockets.append(connection)

    def trickle():
        sent = 0
        while sent < BODY_BYTES and not stop.wait(CHUNK_SECONDS):
            for connection in sockets:
                try:
                    connection.sendall(b"x" * CHUNK_BYTES)
                except OSError:
                    pass
            sent += CHUNK_BYTES

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        yield sockets
    finally:
        stop.set()
        sender.join()
        for connection in sockets:
            connection.close()


def fast_request(url, timeout=WAIT_LIMIT):
    """(seconds, status code) of one ordinary POST /predict; the status is None if no answer
    came within `timeout`."""
    started = time.perf_counter()
    try:
        with open(IMAGE, "rb") as image:
            status = requests.post(f"{url}/predict", files={"image": (IMAGE.name, image)},
                                   timeout=timeout).status_code
    except requests.RequestException:
        status = None
    return time.perf_counter() - started, status


@contextmanager
def gunicorns(count, workers):
    """`count` gunicorn instances as the Procfile starts them; yields their base URLs."""
    started = [start("service:create_app()", env={"WEB_CONCURRENCY": str(workers)})
               for _ in range(count)]
    try:
        for process, url in started:
            wait_ready(url, "/health", process=process)
        yield [url for _, url in started]
    finally:
        for process, _ in started:
            process.terminate()
            process.wait(timeout=30)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, default=50, help="slow clients (default 50)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    args = parser.parse_args(argv)
    with gunicorns(1, args.workers) as (direct,):
        for _ in range(2 * args.workers):  # every worker has answered once
            fast_request(direct)
        alone, _ = fast_request(direct)
        with nginx_serving([direct]) as proxied:
            fast_request(proxied)
            proxied_alone, _ = fast_request(proxied)
            with trickling(proxied, args.slow):
                time.sleep(1)
                behind_nginx, nginx_status = fast_request(proxied)
        with trickling(direct, args.slow):
            time.sleep(1)
            straight, straight_status = fast_request(direct)
    print(f"fast client's POST /predict, {args.workers} sync workers, {args.slow} slow clients "
          f"trickling {BODY_BYTES // 1000} kB at {CHUNK_BYTES * 2 // 1000} kB/s:")
    print(f"  no slow clients, straight to gunicorn: {alone * 1000:8.1f} ms")
    print(f"  no slow clients, behind nginx:         {proxied_alone * 1000:8.1f} ms")
    print(f"  slow clients, behind nginx:            {behind_nginx * 1000:8.1f} ms "
          f"(status {nginx_status})")
    print("  slow clients, straight to gunicorn:    "
          + (f"{straight * 1000:8.1f} ms (status {straight_status})" if straight_status
             else f"no answer within {WAIT_LIMIT} s"))


if __name__ == "__main__":
    main()
