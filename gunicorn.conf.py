"""gunicorn settings for a small VPS or a Procfile platform (Heroku-style).

`PORT` and `WEB_CONCURRENCY` come from the platform; everything else suits 1-2 cores, 512 MB.
"""

import gc
import os
import shutil
import signal
import tempfile

# One BLAS thread per worker: two workers on two cores must not each spawn a thread per core.
# Set before the service's modules are imported: OpenBLAS reads them when numpy loads it.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from digits.service.config import BOOLEANS  # noqa: E402 (the service's reading of booleans)
from digits.service.heap import return_large_blocks  # noqa: E402

# Set in the master, it holds in every forked worker: a worker does not keep a heap the size of
# the largest image it ever decoded.
return_large_blocks()

# With DIGITS_METRICS on, every worker writes its counts into one directory that /metrics sums;
# prometheus_client reads the variable when imported, so it is set before the app loads.
_metrics_dir = None
if (BOOLEANS.get(os.environ.get("DIGITS_METRICS", "").lower())
        and "PROMETHEUS_MULTIPROC_DIR" not in os.environ):
    _metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix="digits-metrics-")

wsgi_app = "service:create_app()"
bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"  # requests are short and CPU-bound; put nginx in front for slow clients
preload_app = True  # load the model once in the master; workers share its pages copy-on-write
timeout = 30  # a worker stuck this long is killed and replaced
graceful_timeout = 20
keepalive = 5
max_requests = 2000  # recycle workers now and then so memory cannot creep
max_requests_jitter = 200
# No gunicornc control socket: nothing here uses it, two instances on one host would share its
# default path ($HOME/.gunicorn/gunicorn.ctl), and the container's user has no home to put it in.
control_socket_disable = True
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")


def when_ready(server):
    """After the app (and the estimator) is loaded in the master, before the first fork: move
    every object into the collector's permanent generation. Otherwise each worker's first
    collections write to the pages of the master's objects, copying them into the worker (more
    memory, and stalls of hundreds of milliseconds right after each fork)."""
    gc.collect()
    gc.freeze()


def post_worker_init(worker):
    """Make SIGTERM close the worker's listening sockets at once, then finish as gunicorn does.

    On SIGTERM the master closes its copy of the sockets, but each worker keeps its own until it
    exits: a worker still finishing a request holds the socket open, nobody accepts from it,
    and the connections that queue there meanwhile are reset once it exits, after the proxy has
    sent them (502 for a POST, which nginx must not retry). Closed at once, the socket refuses
    new connections instead, and nginx tries the next replica (a rolling restart loses
    nothing: tests/test_compose.py).

    The connections already queued on the socket when it closes (sent while every worker was
    busy) would be reset all the same: they are accepted first and answered as the worker
    exits (`worker_exit`). A compose rolling restart lost one such request in two of four CI
    runs before.

    A request accepted just before the signal is still answered: gunicorn's sync worker asks
    its listener for the socket's address (`getsockname`) as it starts each request, and a
    closed gunicorn socket answers that with an AttributeError, sent as a bare 500. So each
    listener keeps answering with the address it had."""
    worker.drained = []

    def stop_listening(signum, frame):
        for listener in worker.sockets:
            address = listener.getsockname()
            worker.drained.extend(_queued(listener))
            listener.close()
            listener.getsockname = lambda address=address: address
        worker.handle_exit(signum, frame)

    signal.signal(signal.SIGTERM, stop_listening)
    signal.siginterrupt(signal.SIGTERM, False)


def _queued(listener):
    """The connections waiting on a listening socket, accepted without blocking: [(listener,
    client, address)]. One its client gave up on while it waited is passed over; any other
    error (none left, no descriptor free) ends the list."""
    queued = []
    listener.setblocking(False)
    while True:
        try:
            client, address = listener.accept()
        except ConnectionAbortedError:  # the next may still be waiting behind it
            continue
        except OSError:  # BlockingIOError: none left
            return queued
        client.setblocking(True)
        queued.append((listener, client, address))


def worker_exit(server, worker):
    """In a worker that stopped on SIGTERM: answer the connections it took off its listening
    sockets as they closed, one after the other, as the sync worker answers any (the master
    calls this hook too, for workers it reaps: they have none)."""
    for listener, client, address in getattr(worker, "drained", ()):
        worker.handle(listener, client, address)


def on_exit(server):
    """Remove the metrics directory this configuration created."""
    if _metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
