"""Load the real service with a mix of valid and invalid uploads and count what went wrong.

    python bench/load.py [--duration 60] [--connections 16] [--kill-worker-after S]

Runs gunicorn as the Procfile does, then wrk with a rotation of uploads (photos, canvases,
scans, text files, truncated PNGs, blanks). Reports requests, 5xx answers (must be 0), socket
errors and timeouts (dropped connections, must be 0). With --kill-worker-after, one worker is
killed with SIGKILL that many seconds into the run; then only its in-flight requests may fail.
Exit status 1 when the run breaks the contract. Needs `wrk` (apt-get install wrk).
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import BOUNDARY, ROOT, multipart, start, wait_ready  # noqa: E402
from digits.lab.handwriting import handwriting  # noqa: E402
from digits.lab.uploads import render_upload  # noqa: E402


def mixed_uploads():
    """(filename, bytes, expected status) for each upload in the rotation."""
    images, _ = handwriting("dev", per_kind=6)
    valid = [(f"{kind}.bin", render_upload(images[i], kind, i), 200)
             for i, kind in enumerate(["photo", "canvas", "scan", "ruled", "marker", "modes"])]
    png = valid[1][1]
    invalid = [("notes.png", b"just some text", 415), ("cut.png", png[: len(png) // 3], 415),
               ("empty.png", b"", 400),
               ("blank.png", render_upload(images[0] * 0, "screen", 0), 422)]
    return valid + invalid


def worker_pids(master):
    return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def workers_within(master, wanted, seconds):
    """How many workers the master has, waiting up to `seconds` for `wanted` (workers are
    recycled every ~2000 requests and replaced when they die)."""
    deadline = time.monotonic() + seconds
    while len(worker_pids(master)) < wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(worker_pids(master))


def run(duration, connections, kill_after=None):
    """Run the load; returns a dict of counts and whether the service recovered."""
    folder = Path(tempfile.mkdtemp())
    uploads = mixed_uploads()
    for index, (filename, data, _) in enumerate(uploads, start=1):
        (folder / f"{index}.body").write_bytes(multipart(filename, data))
    process, url = start("service:create_app()")
    try:
        wait_ready(url, "/health")
        killed, recovered = [], []
        if kill_after is not None:
            def kill():
                time.sleep(kill_after)
                victim = worker_pids(process.pid)[0]
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)
                recovered.append(wait_ready(url, "/health", seconds=5))
            threading.Thread(target=kill, daemon=True).start()
        env = {**os.environ, "BODIES_DIR": str(folder), "COUNT": str(len(uploads)),
               "BOUNDARY": BOUNDARY}
        output = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s",
                                 "--timeout", "5s", "-s", str(ROOT / "bench" / "mixed.lua"),
                                 f"{url}/predict"], env=env, capture_output=True, text=True,
                                check=True).stdout
        counts = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)",
                                                   output.split("RESULT", 1)[1])}
        statuses = {status: requests.post(f"{url}/predict", files={"image": (name, data)},
                                          timeout=10).status_code == status
                    for name, data, status in uploads}
        counts["answers_as_expected"] = all(statuses.values())
        counts["workers_after"] = workers_within(process.pid, 2, seconds=5)
        counts["killed"] = killed
        counts["seconds_to_answer_after_kill"] = recovered[0] if recovered else None
        return counts
    finally:
        process.terminate()
        process.wait(timeout=30)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--kill-worker-after", type=float, default=None)
    args = parser.parse_args(argv)
    counts = run(args.duration, args.connections, args.kill_worker_after)
    for key, value in counts.items():
        print(f"{key}: {value}")
    dropped = counts["socket_errors"] + counts["timeouts"]
    # after a SIGKILL the killed worker's in-flight requests may fail; nothing else may
    allowed = 0 if args.kill_worker_after is None else args.connections
    broken = (counts["server_errors"] > allowed or dropped > allowed
              or not counts["answers_as_expected"] or counts["workers_after"] < 2)
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    main()
