"""What was read, as the response bodies a client reads for a digit and for a number."""


def prediction_body(digit, top_k):
    """The body for one digit (a `reading.Digit`): best digit, its confidence and whether that
    is under the reader's threshold, the `top_k` most likely digits, all ten probabilities and
    the 8x8 image."""
    probabilities = digit.probabilities
    return {
        "digit": digit.digit,
        "confidence": digit.confidence,
        "uncertain": digit.uncertain,
        "top": [{"digit": int(d), "confidence": float(probabilities[d])}
                for d in digit.ranked[:top_k]],
        "probabilities": [float(p) for p in probabilities],
        "pixels": digit.pixels.astype(int).tolist(),
    }


def number_body(reading, top_k):
    """The body for what an image holds (a `reading.Reading`): `number_fields` of the whole
    image (its lines' numbers a line break apart) and, top to bottom, of each of its `lines`
    with the line's box."""
    return {**number_fields(reading, top_k),
            "lines": [{**number_fields(line, top_k), "box": _box(line.box)}
                      for line in reading.lines]}


def number_fields(reading, top_k):
    """The number as written, the probability that all its digits are right and whether that
    is under the threshold; each digit's body (as `prediction_body`) with its box in the
    upload; the separators read between the digits (a point, a dash, a space, a line break);
    the dots and dashes left out."""
    return {
        "number": reading.number,
        "confidence": reading.confidence,
        "uncertain": reading.uncertain,
        "digits": [{**prediction_body(digit, top_k), "box": _box(digit.box)}
                   for digit in reading.digits],
        "separators": [{"symbol": separator.symbol, "after": separator.after,
                        "box": _box(separator.box)} for separator in reading.separators],
        "ignored": [{"kind": mark.kind, "box": _box(mark.box)} for mark in reading.marks],
    }


def _box(box):
    """(left, top, width, height) as the JSON object clients read."""
    return dict(zip(("left", "top", "width", "height"), (int(value) for value in box)))
