"""Classify images with a running digits service.

    python client.py IMAGE... [--url URL] [--top-k N] [--json]

Prints one line per image (file, digit, confidence, `?` when uncertain), or the JSON answers.
Exits 1 when an image is rejected (the server's problem detail is shown) and 2 when the
server cannot be reached.
"""

import argparse
import json
import sys

import requests

DEFAULT_URL = "http://127.0.0.1:8000"


def classify(path, url, top_k, timeout=30):
    """POST one image file to {url}/predict; returns (ok, body) where body is the JSON answer."""
    with open(path, "rb") as handle:
        response = requests.post(f"{url.rstrip('/')}/predict", params={"top_k": top_k},
                                 files={"image": (path, handle)}, timeout=timeout)
    try:
        body = response.json()
    except ValueError:
        body = {"status": response.status_code, "detail": response.text[:200]}
    return response.ok, body


def describe(path, ok, body):
    """One human-readable line for an answer."""
    if not ok:
        return f"{path}: rejected ({body.get('status')}): {body.get('detail')}"
    mark = "  ? uncertain" if body["uncertain"] else ""
    return f"{path}: {body['digit']}  confidence {body['confidence']:.2f}{mark}"


def main(argv=None):
    """Classify every image given; returns the exit status."""
    parser = argparse.ArgumentParser(description="Classify handwritten digit images.")
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"service URL (default {DEFAULT_URL})")
    parser.add_argument("--top-k", type=int, default=3, help="how many candidates (1-10)")
    parser.add_argument("--json", action="store_true", help="print the JSON answers")
    args = parser.parse_args(argv)
    status = 0
    answers = []
    for path in args.images:
        try:
            ok, body = classify(path, args.url, args.top_k)
        except requests.ConnectionError:
            print(f"error: cannot reach the digits service at {args.url}: is it running? "
                  "(start it with `gunicorn -c gunicorn.conf.py`)", file=sys.stderr)
            return 2
        except requests.RequestException as error:
            print(f"error: {args.url} did not answer properly: {error}", file=sys.stderr)
            return 2
        except OSError as error:  # the image file itself could not be read
            print(f"{path}: cannot read the file: {error.strerror or error}", file=sys.stderr)
            status = 1
            continue
        status = status if ok else 1
        answers.append({"file": path, **body})
        if not args.json:
            print(describe(path, ok, body), file=sys.stdout if ok else sys.stderr)
    if args.json:
        print(json.dumps(answers, indent=2))
    return status


if __name__ == "__main__":
    sys.exit(main())
