"""What a reading request carries: its image file (or files) and its `top_k`, checked."""

import re

from flask import current_app, request

from digits.service.errors import BadUpload, TooManyFiles, UnsupportedBody

FILE_FIELDS = ("image", "file")  # `file` is accepted as an alias
BATCH_FIELD = "images"
MAX_TOP_K = 10


def parse_top_k(raw):
    """The `top_k` query value as an int from 1 to 10 (3 when absent); BadUpload otherwise."""
    if raw is None:
        return 3
    if not re.fullmatch(r"[0-9]{1,2}", raw) or not 1 <= int(raw) <= MAX_TOP_K:
        raise BadUpload(f"top_k must be a whole number from 1 to {MAX_TOP_K}; got {raw[:20]!r}.")
    return int(raw)


def accept_body(app, mimetype, read):
    """Let the app's reading routes take a request body of `mimetype` (besides multipart
    uploads): `read()` gives the image's bytes from it. How an optional feature adds a way to
    send an image (URL fetching: JSON)."""
    app.extensions.setdefault("digits.bodies", {})[mimetype] = read


def image_bytes():
    """The bytes of the request's one image: from a body a feature accepts (`accept_body`),
    else from the multipart upload (`uploaded_bytes`)."""
    read = current_app.extensions.get("digits.bodies", {}).get(request.mimetype)
    return read() if read else uploaded_bytes()


def uploaded_bytes():
    """The bytes of the uploaded image from the multipart form.

    Raises UnsupportedBody for a body that is not multipart/form-data and BadUpload when
    the image field is missing or empty.
    """
    if request.mimetype != "multipart/form-data" and request.content_length:
        off = (" (fetching an image from a URL is turned off on this server)"
               if request.mimetype == "application/json" else "")
        raise UnsupportedBody(
            f"POST {request.path} takes multipart/form-data with the image in a file field named "
            f"'image'; the request body was {request.mimetype or 'of no declared type'}{off}.")
    upload = next((request.files[name] for name in FILE_FIELDS if name in request.files), None)
    if upload is None:
        as_text = next((name for name in FILE_FIELDS if name in request.form), None)
        if as_text:
            raise BadUpload(f"The field '{as_text}' holds text, not a file. Send the image as a "
                            f"file upload (with curl: -F {as_text}=@digit.png).")
        sent = sorted(set(request.files) | set(request.form))
        got = f" The form had: {', '.join(repr(n[:40]) for n in sent[:5])}." if sent else ""
        raise BadUpload("No image was uploaded. Send the image as multipart/form-data in a file "
                        f"field named 'image'.{got}")
    data = upload.read()
    if not data:
        raise BadUpload(f"The uploaded file {(upload.filename or '')[:100]!r} is empty. "
                        "Choose an image file that has content.")
    return data


def uploaded_batch(limit):
    """The files of the form's `images` field, at most `limit` of them.

    Raises UnsupportedBody for a body that is not multipart/form-data, BadUpload when there is
    no file, and TooManyFiles over the limit.
    """
    if request.mimetype != "multipart/form-data":
        raise UnsupportedBody(
            f"POST {request.path} takes multipart/form-data with the images in file fields named "
            f"'{BATCH_FIELD}'; the request body was {request.mimetype or 'of no declared type'}.")
    uploads = request.files.getlist(BATCH_FIELD)
    if not uploads:
        raise BadUpload(f"No images were uploaded. Send each image as a file field named "
                        f"'{BATCH_FIELD}' (with curl: -F {BATCH_FIELD}=@a.png "
                        f"-F {BATCH_FIELD}=@b.png).")
    if len(uploads) > limit:
        raise TooManyFiles(f"The batch has {len(uploads)} images; at most {limit} are accepted "
                           "in one request. Split it into several requests.")
    return uploads
