"""Benchmark the service against its references, all under the Procfile's gunicorn configuration.

    python bench/run.py [--duration 10] [--connections 8] [--skip-train]
                        [--service-env DIGITS_METRICS=true ...]

For two payloads (a 280x280 transparent canvas PNG, an 800x600 phone-photo JPEG) it loads
POST /predict with wrk on the bare Flask floor, the decode floor, a plain-resize service (the
usual classifier API: the image shrunk to 8x8 as it is, then predict_proba) and the service, and
prints requests/s, p50/p99 latency, errors and the ratios. It also reports the memory of the
whole gunicorn tree (master + workers, PSS: what the box pays; RSS beside it) at idle and after
load, the time from process start to the first 200 from /health, and how long `python train.py`
takes; then every target, met or missed. Needs `wrk` (apt-get install wrk).
"""

import argparse
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digits.lab.handwriting import handwriting  # noqa: E402
from digits.lab.uploads import render_upload  # noqa: E402

TARGETS = {
    "flask floor": "bench.floors:flask_floor()",
    "decode floor": "bench.floors:decode_floor()",
    "plain resize": "bench.floors:plain_resize()",
    "service": "service:create_app()",
}
BOUNDARY = "digitsbenchboundary"
# (payload, reference) -> the least throughput, as a multiple of the reference's; the canvas PNG
# must be decoded whole, but the photo JPEG need not be (the decode floor decodes it all).
THROUGHPUT_TARGETS = {("canvas PNG 280x280", "decode floor"): 0.7,
                      ("canvas PNG 280x280", "plain resize"): 0.9,
                      ("photo JPEG 800x600", "decode floor"): 1.1}
# train.py: 60 s was set for the digit model alone; with the segmentation model, 180 s
TARGETS_MET_AT = {"p99_ms": 20.0, "idle_pss_mb": 150.0, "cold_start_s": 0.5, "train_s": 60.0,
                  "train_with_segmenter_s": 180.0}


def payloads():
    """The two uploads, as (name, filename, bytes)."""
    images, _ = handwriting("dev", per_kind=1)
    return [("canvas PNG 280x280", "canvas.png", render_upload(images[0], "canvas", 0)),
            ("photo JPEG 800x600", "photo.jpg",
             render_upload(images[0], "photo", 0, size=(800, 600)))]


def multipart(filename, data):
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"image\"; "
            f"filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            ).encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(app_uri, env=None, **popen):
    """Start gunicorn exactly as the Procfile does, serving `app_uri`; returns (process, url).

    `env` adds variables (WEB_CONCURRENCY defaults to 2); `popen` reaches subprocess.Popen
    (output is discarded unless it says otherwise).
    """
    port = free_port()
    env = {**os.environ, "WEB_CONCURRENCY": "2", **(env or {}), "PORT": str(port),
           "HOST": "127.0.0.1", "PYTHONPATH": str(ROOT)}
    popen = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, **popen}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                                app_uri], cwd=ROOT, env=env, **popen)
    return process, f"http://127.0.0.1:{port}"


def wait_listening(port, process=None, seconds=10):
    """Return once something accepts connections on 127.0.0.1:`port`.

    Raises RuntimeError if that takes longer than `seconds` or `process` exits first.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (process is None or process.poll() is None):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listened on port {port} within {seconds} s")


def wait_ready(url, path, seconds=30, process=None, expect=200):
    """Seconds until `path` first answers `expect` (cold start when called right after start).

    Raises RuntimeError if that takes longer than `seconds` or `process` exits first.
    """
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        if process is not None and process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"gunicorn exited with {process.returncode}: {output}")
        try:
            if requests.get(url + path, timeout=1).status_code == expect:
                return time.perf_counter() - started
        except requests.RequestException:  # not listening yet, or not answering yet
            pass
        time.sleep(0.005)
    raise RuntimeError(f"{url}{path} did not answer {expect} within {seconds} s")


def tree_memory_mb(pid):
    """(RSS, PSS) in MB summed over a process and its children."""
    pids = [pid] + [int(p) for p in
                    Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    rss = pss = 0
    for child in pids:
        rollup = Path(f"/proc/{child}/smaps_rollup").read_text()
        rss += int(re.search(r"^Rss:\s+(\d+)", rollup, re.M).group(1))
        pss += int(re.search(r"^Pss:\s+(\d+)", rollup, re.M).group(1))
    return rss / 1024, pss / 1024


def load(url, body_file, duration, connections):
    """Run wrk against POST /predict; returns requests/s, p50 and p99 (ms) and errors."""
    env = {**os.environ, "BODY_FILE": str(body_file), "BOUNDARY": BOUNDARY}
    output = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s",
                             "-s", str(ROOT / "bench" / "upload.lua"), f"{url}/predict"],
                            env=env, capture_output=True, text=True, check=True).stdout
    fields = dict(re.findall(r"(\w+)=(\d+)", output.split("RESULT", 1)[1]))
    return {"rps": int(fields["requests"]) / (int(fields["duration_us"]) / 1e6),
            "p50_ms": int(fields["p50_us"]) / 1000, "p99_ms": int(fields["p99_us"]) / 1000,
            "errors": int(fields["non2xx"]) + int(fields["socket_errors"])}


def train_seconds():
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run([sys.executable, "train.py", "--output-dir", out], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        return time.perf_counter() - started


def verdicts(results, memory, payload_names, train=None):
    """Each target with the measured figure and whether it is met: (text, met) pairs."""
    lines = []
    for name in payload_names:
        service = results[("service", name)]
        for (payload, reference), least in THROUGHPUT_TARGETS.items():
            if payload == name:
                ratio = service["rps"] / results[(reference, name)]["rps"]
                lines.append((f"{name}: throughput {ratio:.2f}x the {reference} (target >= "
                              f"{least}x)", ratio >= least))
        decode = results[("decode floor", name)]
        lines.append((f"{name}: p99 {service['p99_ms']:.1f} ms (target <= "
                      f"{TARGETS_MET_AT['p99_ms']:.0f} ms; the decode floor's own p99: "
                      f"{decode['p99_ms']:.1f} ms)",
                      service["p99_ms"] <= TARGETS_MET_AT["p99_ms"]))
        lines.append((f"{name}: {service['errors']} errors (target 0)", service["errors"] == 0))
    (_, idle_pss), _, cold = memory["service"]
    lines.append((f"gunicorn tree PSS at idle, estimator loaded, {idle_pss:.1f} MB (target <= "
                  f"{TARGETS_MET_AT['idle_pss_mb']:.0f} MB)",
                  idle_pss <= TARGETS_MET_AT["idle_pss_mb"]))
    lines.append((f"cold start {cold:.2f} s (target <= {TARGETS_MET_AT['cold_start_s']} s)",
                  cold <= TARGETS_MET_AT["cold_start_s"]))
    if train is not None:
        lines.append((f"python train.py {train:.1f} s (target <= {TARGETS_MET_AT['train_s']:.0f} "
                      "s)", train <= TARGETS_MET_AT["train_s"]))
        most = TARGETS_MET_AT["train_with_segmenter_s"]
        lines.append((f"python train.py, the segmentation model included, {train:.1f} s (target "
                      f"<= {most:.0f} s)", train <= most))
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--skip-train", action="store_true", help="do not time train.py")
    parser.add_argument("--service-env", nargs="*", default=[], metavar="NAME=VALUE",
                        help="settings for the service only, e.g. DIGITS_METRICS=true to "
                             "measure an optional feature's cost")
    args = parser.parse_args(argv)
    service_env = dict(setting.split("=", 1) for setting in args.service_env)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    work = Path(tempfile.mkdtemp())
    bodies = []
    for name, filename, data in payloads():
        path = work / filename
        path.write_bytes(multipart(filename, data))
        bodies.append((name, path))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; gunicorn.conf.py with WEB_CONCURRENCY="
          f"{os.environ.get('WEB_CONCURRENCY', '2')}; wrk -t2 -c{args.connections} "
          f"-d{args.duration}s")
    if service_env:
        print("service settings: " + " ".join(f"{k}={v}" for k, v in service_env.items()))
    results, memory = {}, {}
    for target, app_uri in TARGETS.items():
        process, url = start(app_uri, env=service_env if target == "service" else None)
        try:
            # the floors have no /health: their 404 for it says they are up
            ready = wait_ready(url, "/health", expect=200 if target == "service" else 404)
            time.sleep(0.5)
            idle = tree_memory_mb(process.pid)
            for name, path in bodies:
                load(url, path, 2, args.connections)  # warm-up
                results[(target, name)] = load(url, path, args.duration, args.connections)
            memory[target] = (idle, tree_memory_mb(process.pid), ready)
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"\n{'payload':<20} {'target':<13} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'errors':>6} {'vs decode':>9} {'vs resize':>9}")
    for name, _ in bodies:
        for target in TARGETS:
            r = results[(target, name)]
            decode, plain = results[("decode floor", name)], results[("plain resize", name)]
            print(f"{name:<20} {target:<13} {r['rps']:>8.0f} {r['p50_ms']:>7.2f} "
                  f"{r['p99_ms']:>7.2f} {r['errors']:>6} {r['rps'] / decode['rps']:>9.2f} "
                  f"{r['rps'] / plain['rps']:>9.2f}")
    print(f"\n{'target':<13} {'idle RSS':>9} {'loaded RSS':>11} {'idle PSS':>9} "
          f"{'loaded PSS':>11}  (MB, master + workers)")
    for target, ((idle_rss, idle_pss), (rss, pss), _) in memory.items():
        print(f"{target:<13} {idle_rss:>9.1f} {rss:>11.1f} {idle_pss:>9.1f} {pss:>11.1f}")
    print(f"\ncold start (process start -> first 200 from /health): "
          f"{memory['service'][2]:.2f} s")
    train = None if args.skip_train else train_seconds()
    if train is not None:
        print(f"python train.py (wall, with 3-fold CV): {train:.1f} s")
    print("\ntargets:")
    for text, met in verdicts(results, memory, [name for name, _ in bodies], train):
        print(f"  {'met   ' if met else 'MISSED'} {text}")


if __name__ == "__main__":
    main()
