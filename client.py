"""Read what is written in images (a digit or a number) with a running digits service.

    python client.py IMAGE... [--digit] [--url URL] [--top-k N] [--json] [--batch-size 64]
                              [--api-key KEY]

Prints one line per image (file, what was read, confidence, `?` when uncertain), or the JSON
answers. Each image is read as a number, one digit or more, by POST /read (POST /predict with
--digit, which answers one digit and refuses an image that holds several); several images go
to /read/batch (/predict/batch), up to --batch-size (and 9 MiB) per request. Exits 1 when an
image is rejected (the server's problem detail is shown) and 2 when the server cannot be
reached or refuses the request as a whole (no key, no credits, rate limit).
"""

import argparse
import json
import os
import sys

import requests

DEFAULT_URL = "http://127.0.0.1:8000"
BATCH_SIZE = 64  # the server's default DIGITS_BATCH_MAX_FILES
BATCH_BYTES = 9 * 1024 * 1024  # under the server's default 10 MiB body limit, with room to spare


class Refused(Exception):
    """The server refused a whole request; the message is its problem detail."""


def post_images(paths, url, top_k, headers=None, timeout=60, endpoint="/read"):
    """POST the image files to {url}{endpoint} (one) or {url}{endpoint}/batch (several);
    `endpoint` is /predict (a digit) or /read (a number).

    Returns (path, ok, body) per image, body being its answer or problem. Raises Refused when
    the server refuses the request as a whole, and OSError when a file cannot be read.
    """
    handles = [open(path, "rb") for path in paths]
    try:
        if len(paths) == 1:
            response = requests.post(f"{url.rstrip('/')}{endpoint}", params={"top_k": top_k},
                                     files={"image": (paths[0], handles[0])}, headers=headers,
                                     timeout=timeout)
        else:
            response = requests.post(f"{url.rstrip('/')}{endpoint}/batch",
                                     params={"top_k": top_k}, headers=headers, timeout=timeout,
                                     files=[("images", (p, h)) for p, h in zip(paths, handles)])
    finally:
        for handle in handles:
            handle.close()
    body = _json(response)
    if response.status_code in (401, 402, 429) or (len(paths) > 1 and not response.ok):
        raise Refused(f"{response.status_code}: {body.get('detail')}")
    if len(paths) == 1:
        return [(paths[0], response.ok, body)]
    return [(path, "error" not in result, result.get("error", result))
            for path, result in zip(paths, body["results"])]


def batches(paths, size, max_bytes):
    """The paths in order, grouped at most `size` and (unless alone) `max_bytes` at a time."""
    group, total = [], 0
    for path in paths:
        length = os.path.getsize(path)
        if group and (len(group) == size or total + length > max_bytes):
            yield group
            group, total = [], 0
        group.append(path)
        total += length
    if group:
        yield group


def answer_line(path, ok, body):
    """The human-readable lines for an answer: one, or one per line of writing in the image
    ("path line 2: 45  confidence 0.80")."""
    if not ok:
        return f"{path}: rejected ({body.get('status')}): {body.get('detail')}"
    lines = body.get("lines", [body])
    if len(lines) == 1:
        return f"{path}: {_answer(body)}"
    return "\n".join(f"{path} line {index}: {_answer(line)}"
                     for index, line in enumerate(lines, start=1))


def _answer(body):
    """A digit or a number, its confidence and whether it is uncertain."""
    mark = "  ? uncertain" if body["uncertain"] else ""
    answer = body["number"] if "number" in body else body["digit"]
    return f"{answer}  confidence {body['confidence']:.2f}{mark}"


def main(argv=None):
    """Read every image given; returns the exit status."""
    parser = argparse.ArgumentParser(description="Read handwritten digits or numbers.")
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("--digit", action="store_true",
                        help="read each image as one digit (POST /predict: the ten "
                        "probabilities and the 8x8 image; an image of several digits is "
                        "rejected)")
    parser.add_argument("--read", action="store_true",
                        help="read each image as a number (POST /read): the default")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"service URL (default {DEFAULT_URL})")
    parser.add_argument("--top-k", type=int, default=3, help="how many candidates (1-10)")
    parser.add_argument("--json", action="store_true", help="print the JSON answers")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                        help=f"images per request (default {BATCH_SIZE})")
    parser.add_argument("--api-key", default=os.environ.get("DIGITS_API_KEY"),
                        help="API key, when the server needs one (default: $DIGITS_API_KEY)")
    args = parser.parse_args(argv)
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else None
    status = 0
    answers = []
    readable = []
    for path in args.images:
        if os.access(path, os.R_OK) and os.path.isfile(path):
            readable.append(path)
        else:
            print(f"{path}: cannot read the file", file=sys.stderr)
            status = 1
    for batch in batches(readable, max(1, args.batch_size), BATCH_BYTES):
        try:
            results = post_images(batch, args.url, args.top_k, headers,
                                  endpoint="/predict" if args.digit else "/read")
        except requests.ConnectionError:
            print(f"error: cannot reach the digits service at {args.url}: is it running? "
                  "(start it with `gunicorn -c gunicorn.conf.py`)", file=sys.stderr)
            return 2
        except requests.RequestException as error:
            print(f"error: {args.url} did not answer properly: {error}", file=sys.stderr)
            return 2
        except Refused as error:
            print(f"error: the service refused the request ({error})", file=sys.stderr)
            return 2
        for path, ok, body in results:
            status = status if ok else 1
            answers.append({"file": path, **body})
            if not args.json:
                print(answer_line(path, ok, body), file=sys.stdout if ok else sys.stderr)
    if args.json:
        print(json.dumps(answers, indent=2))
    return status


def _json(response):
    try:
        return response.json()
    except ValueError:
        return {"status": response.status_code, "detail": response.text[:200]}


if __name__ == "__main__":
    sys.exit(main())
