"""One hash of every answer the service gives: a change that should not alter what users get
shows the same hash before and after.

    python bench/answers.py [--splits dev test] [--jobs 2] [--list]

Sends, through the app's test client with the default settings and the committed model: every
test image to POST /predict and POST /read; every evaluation upload of each split (its digits
to /predict, its numbers to /read, as `evaluate.py` renders them); and the hostile uploads of
`digits.lab.hostile` (broken files, degenerate shapes, headers declaring huge images) to both.
Prints how many answers of each group were hashed, each group's sha256 over status and body,
and the sha256 of them all. `--list` prints one line per answer instead (status, body digest),
to find where two runs part.
"""

import argparse
import hashlib
import io
import sys
import warnings
from pathlib import Path

from joblib import Parallel, delayed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digits.lab import hostile  # noqa: E402
from digits.lab.evaluation import number_set  # noqa: E402
from digits.lab.handwriting import SPLITS, handwriting  # noqa: E402
from digits.lab.uploads import KINDS, NUMBER_KINDS, SPACINGS, render_number, render_upload  # noqa: E402,E501

ENDPOINTS = ("/predict", "/read")
_CLIENT = []


def cases(splits):
    """Every case as (group, path, how to make its bytes): the bytes are made in the worker
    that sends them, so that rendering is shared out as well."""
    found = [("test images", path, ("file", str(image)))
             for image in sorted((ROOT / "test_images").iterdir()) for path in ENDPOINTS]
    for split in splits:
        for kind in KINDS:
            found += [(f"{split} digits", "/predict", ("digit", split, kind, index))
                      for index in range(SPLITS[split].stop - SPLITS[split].start)]
        for kind in NUMBER_KINDS:
            for spacing in SPACINGS:
                found += [(f"{split} numbers", "/read", ("number", split, kind, spacing, index))
                          for index in range(240)]
    hostile_cases = ([("mutation", index) for index in range(len(hostile.mutations()))]
                     + [("degenerate", name) for name in hostile.degenerate_images()]
                     + [("declaring", fmt) for fmt in ("GIF", "JPEG", "TIFF")])
    found += [("hostile", path, ("hostile", *case)) for case in hostile_cases
              for path in ENDPOINTS]
    return found


def upload(recipe):
    """The bytes a case's recipe makes."""
    kind, *args = recipe
    if kind == "file":
        return Path(args[0]).read_bytes()
    if kind == "digit":
        split, upload_kind, index = args
        images, _ = _cached(("digits", split), lambda: handwriting(split))
        return render_upload(images[index], upload_kind, SPLITS[split].start + index)
    if kind == "number":
        split, upload_kind, spacing, index = args
        images, _ = _cached(("numbers", split), lambda: number_set(split))[index]
        return render_number(images, upload_kind, spacing, SPLITS[split].start + index)
    what, key = args
    if what == "mutation":
        return _cached("mutations", hostile.mutations)[key][1]
    if what == "degenerate":
        return hostile.encode(hostile.degenerate_images()[key])
    return hostile.declaring(key, 60000, 60000)


def answer_digests(chunk):
    """sha256 of status and body of each case's answer."""
    warnings.simplefilter("ignore", UserWarning)  # Pillow's, about the broken files' tags
    if not _CLIENT:
        from service import create_app
        _CLIENT.append(create_app({"TESTING": True}).test_client())
    digests = []
    for _group, path, recipe in chunk:
        response = _CLIENT[0].post(path, data={"image": (io.BytesIO(upload(recipe)), "u")},
                                   content_type="multipart/form-data")
        digests.append(hashlib.sha256(str(response.status_code).encode() + b"\n"
                                      + response.get_data()).hexdigest())
    return digests


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", nargs="+", default=list(SPLITS), choices=list(SPLITS))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--list", action="store_true", help="one line per answer")
    args = parser.parse_args(argv)
    found = cases(args.splits)
    size = -(-len(found) // (8 * args.jobs))
    chunks = [found[start:start + size] for start in range(0, len(found), size)]
    digests = [digest for part in Parallel(n_jobs=args.jobs)(
        delayed(answer_digests)(chunk) for chunk in chunks) for digest in part]
    if args.list:
        for (group, path, recipe), digest in zip(found, digests):
            print(group, path, *recipe[1:], digest)
        return
    groups = {}
    for (group, _path, _recipe), digest in zip(found, digests):
        groups.setdefault(group, hashlib.sha256()).update(digest.encode())
    for group, digest in groups.items():
        count = sum(case[0] == group for case in found)
        print(f"{group:<14} {count:>6} answers  {digest.hexdigest()}")
    print(f"{'all':<14} {len(found):>6} answers  "
          f"{hashlib.sha256(''.join(digests).encode()).hexdigest()}")


_CACHE = {}


def _cached(key, make):
    """`make()`, made once per worker process."""
    if key not in _CACHE:
        _CACHE[key] = make()
    return _CACHE[key]


if __name__ == "__main__":
    main()
