"""Accuracy and calibration on handwriting the model never saw, sent as real uploads would be."""

import io

import numpy as np
from joblib import Parallel, delayed
from PIL import Image

from digits.core.cuts import paths_through_middle
from digits.core.errors import DigitsError, SeveralDigits
from digits.core.ink import line_regions
from digits.core.reading import Reader, count_blocks, counts_of, locate_page
from digits.core.segmentation import candidate_paths, segment
from digits.lab.handwriting import SPLITS, handwriting
from digits.lab.uploads import (KINDS, NUMBER_KINDS, PAGE_KINDS, SPACINGS, render_number,
                                render_number_by_digit, render_page, render_upload)


THRESHOLD_STEP = 0.05  # the confidence threshold is tuned in these steps
MOST_UNCERTAIN = 0.12  # the threshold marks at most this share of real handwriting uncertain
CHUNKS_PER_KIND = 4  # evaluate() reads each upload kind in this many parts, in parallel


def expected_calibration_error(probabilities, labels, bins=10):
    """ECE: the gap between confidence and accuracy, averaged over equal-width confidence bins."""
    probabilities = np.asarray(probabilities)
    return reliability(probabilities.max(axis=1),
                       probabilities.argmax(axis=1) == np.asarray(labels), bins)[0]


def reliability(confidence, correct, bins=10):
    """How well confidences match how often they are right: (ECE, the table), the table one
    row (low, high, count, mean confidence, share right) per equal-width bin that holds any."""
    confidence, correct = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=bool)
    edges = np.linspace(0, 1, bins + 1)
    error, table = 0.0, []
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            error += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
            table.append((float(low), float(high), int(inside.sum()),
                          float(confidence[inside].mean()), float(correct[inside].mean())))
    return float(error), table


def answered_when_sure(confidence, right, threshold):
    """Of the answers (confidence and whether right, rejected uploads left out): the share marked
    uncertain (confidence under `threshold`) and the accuracy of the rest (None if none)."""
    sure = np.asarray(confidence) >= threshold
    return float(1 - sure.mean()), (float(np.asarray(right)[sure].mean()) if sure.any() else None)


def tuned_threshold(estimator, segmenter, split="dev", per_kind=None, n_jobs=2):
    """The highest confidence threshold, in steps of THRESHOLD_STEP, under which at most
    MOST_UNCERTAIN of the split's answers lie (every kind of upload, `per_kind` digits each:
    all by default; refused uploads are not answers; read with the `segmenter`), and that
    share: (threshold, share)."""
    scores = evaluate(Reader(estimator, 0.0, segmenter), split, per_kind, n_jobs=n_jobs,
                      as_numbers=False).values()
    confidence = np.concatenate([np.asarray(score["confidence"])[np.asarray(score["predicted"])
                                                                 >= 0] for score in scores])
    for step in range(round(1 / THRESHOLD_STEP) - 1, 0, -1):
        threshold = round(step * THRESHOLD_STEP, 2)
        share, _ = answered_when_sure(confidence, np.ones(len(confidence)), threshold)
        if share <= MOST_UNCERTAIN:
            return threshold, share
    return 0.0, 0.0


def drawn_as_png(counts, size=256):
    """An 8x8 `load_digits` image drawn as a size x size PNG, dark ink on white, upscaled
    smoothly (Pillow's default bicubic resize)."""
    ink = np.asarray(counts, dtype=np.float32).reshape(8, 8) / 16
    image = Image.fromarray((255 - ink * 255).astype(np.uint8)).resize(
        (size, size), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def read_uploads(reader, uploads, as_numbers=True):
    """Each upload read as POST /predict reads it: the Digit read (None where the upload was
    refused), how many were refused as several digits, and how many POST /read reads as
    several (those, and the ones /predict answers that /read, judging narrow ink alone too,
    cuts in two; None unless `as_numbers`, which reads each upload a second time)."""
    digits, several, read_several = [], 0, 0
    for data in uploads:
        try:
            digit = reader.read_digit(data)
        except DigitsError as error:
            digits.append(None)
            several += isinstance(error, SeveralDigits)
            continue
        digits.append(digit)
        if as_numbers:
            read_several += len(reader.read_number(data).digits) > 1
    return digits, several, (several + read_several) if as_numbers else None


def kind_uploads(images, kind, offset=0):
    """Bytes of each 28x28 digit rendered as an upload of `kind`, the i-th seeded by offset + i
    (the same uploads whichever model reads them)."""
    return [render_upload(image, kind, offset + i) for i, image in enumerate(images)]


def score_uploads(reader, uploads, labels):
    """Send each upload through POST /predict's path; accuracy, ECE, how many were rejected
    and how many of those as several digits.

    A rejected upload (no digit found, ...) counts as a wrong answer; its `predicted` is -1 and
    its `confidence` 0.
    """
    digits, several, _ = read_uploads(reader, uploads)
    return score_digits(digits, several, labels)


def score_digits(digits, several, labels):
    """score_uploads' figures from what read_uploads gave: the Digits (None where refused) and
    how many were refused as several digits."""
    kept = np.array([digit is not None for digit in digits], dtype=bool)
    labels = np.asarray(labels)
    answers = np.array([digit.probabilities for digit in digits if digit is not None]).reshape(
        -1, 10)
    predicted, confidence = np.full(len(labels), -1), np.zeros(len(labels))
    predicted[kept] = answers.argmax(axis=1)
    confidence[kept] = answers.max(axis=1)
    return {
        "n": int(len(labels)),
        "accuracy": float((predicted == labels).mean()),
        "ece": expected_calibration_error(answers, labels[kept]) if kept.any() else None,
        "rejected": int((~kept).sum()),
        "several_digits": several,
        "predicted": predicted.tolist(),
        "confidence": confidence.tolist(),
    }


def evaluate(reader, split="test", per_kind=None, kinds=KINDS, n_jobs=2, as_numbers=True):
    """Score every upload kind on a split of the handwriting set: {kind: score}; with
    `as_numbers`, each score counts the digits POST /read reads as several (`read_uploads`).

    Each kind is read in CHUNKS_PER_KIND parts, so that the workers share the slow kinds (a
    photo is 1600x1200 pixels to render) rather than one of them reading a photo kind alone.
    """
    images, labels = handwriting(split, per_kind)
    offset = SPLITS[split].start
    parts = [part for part in np.array_split(np.arange(len(images)), CHUNKS_PER_KIND) if len(part)]
    jobs = [(kind, part) for kind in kinds for part in parts]
    read = Parallel(n_jobs=n_jobs)(
        delayed(_read_kind_part)(reader, kind, images[part], offset + int(part[0]), as_numbers)
        for kind, part in jobs)
    scores = {}
    for kind in kinds:
        done = [result for (of, _), result in zip(jobs, read) if of == kind]
        scores[kind] = score_digits([digit for digits, _, _ in done for digit in digits],
                                    sum(several for _, several, _ in done), labels)
        if as_numbers:
            scores[kind]["read_several"] = sum(read for _, _, read in done)
    return scores


def _read_kind_part(reader, kind, images, offset, as_numbers):
    """read_uploads of these digits rendered as uploads of `kind` (the first seeded `offset`)."""
    return read_uploads(reader, kind_uploads(images, kind, offset), as_numbers)


def read_numbers(reader, kind, spacing, numbers, offset=0, overlap=None):
    """Render each number (a list of 28x28 digits, with its labels) as an upload of `kind` and
    `spacing` (touching digits `overlap` pixels past meeting: `uploads.render_number`) and
    read it as POST /read does: per number, (length, digits found, digits right
    when the count is right, whole number right, the answer's confidence or None when it was
    refused, and what the confidence was made of: the digits' confidences multiplied, the
    boundaries between them the paper parted and those cut, or None)."""
    rows = []
    for index, (images, labels) in enumerate(numbers):
        data = render_number(images, kind, spacing, offset + index, overlap=overlap)
        try:
            reading = reader.read_number(data)
            found = np.array([digit.digit for digit in reading.digits])
            confidence = reading.confidence
            cuts = sum(digit.cut for digit in reading.digits)
            parts = (float(np.prod([digit.confidence for digit in reading.digits])),
                     len(reading.digits) - 1 - cuts, cuts)
        except DigitsError:
            found, confidence, parts = np.array([], dtype=int), None, None
        right = int((found == labels).sum()) if len(found) == len(labels) else 0
        rows.append((len(labels), len(found), right, bool(right == len(labels)), confidence,
                     parts))
    return rows


def fit_boundaries(parts, exact):
    """The boundary reliabilities (GAP_RIGHT, CUT_RIGHT) most likely to have given numbers read
    exactly right or not (`exact`), each number's confidence being its digits' confidences
    times one per boundary (`parts`: (digits' product, gaps, cuts) of each): a grid search of
    the log likelihood, in steps of 0.005."""
    product, gaps, cuts = (np.array(column, dtype=float) for column in zip(*parts))
    exact = np.asarray(exact, dtype=float)
    best = None
    for gap in np.arange(0.9, 1.0001, 0.005):
        for cut in np.arange(0.5, 1.0001, 0.005):
            confidence = np.clip(product * gap ** gaps * cut ** cuts, 1e-9, 1 - 1e-9)
            likelihood = float(np.sum(exact * np.log(confidence)
                                      + (1 - exact) * np.log(1 - confidence)))
            if best is None or likelihood > best[0]:
                best = (likelihood, round(float(gap), 3), round(float(cut), 3))
    return best[1:]


def number_set(split="test", count=240, longest=8):
    """`count` numbers of lengths 1..`longest` in turn, their digits taken in order from the
    split's handwriting (the same numbers for every kind and spacing): [(images, labels)]."""
    images, labels = handwriting(split)
    numbers, start = [], 0
    for index in range(count):
        length = 1 + index % longest
        if start + length > len(labels):
            start = 0
        numbers.append((images[start:start + length], labels[start:start + length]))
        start += length
    return numbers


def evaluate_numbers(reader, split="test", count=240, kinds=NUMBER_KINDS,
                     spacings=tuple(SPACINGS), n_jobs=2):
    """Read `count` numbers of every kind and spacing: {(kind, spacing): figures} with the
    share of numbers whose digits were all found (count_right), the share of digits right
    among those, exact-number accuracy by length, `answers`: (confidence, exact) of each
    number answered, for the calibration of a number's confidence, and `parts`: what each
    answer's confidence was made of (`read_numbers`), for fitting the boundaries' share."""
    cells = [(kind, spacing) for kind in kinds for spacing in spacings]
    results = _read_cells(read_numbers, reader, split, count, cells, n_jobs)
    figures = {}
    for cell, rows in zip(cells, results):
        answers = [(row[4], row[3]) for row in rows if row[4] is not None]
        parts = [row[5] for row in rows if row[5] is not None]
        rows = np.array([row[:4] for row in rows], dtype=int)
        counted = rows[:, 0] == rows[:, 1]
        figures[cell] = {
            "n": len(rows),
            "count_right": float(counted.mean()),
            "digits_right": float(rows[counted, 2].sum() / max(1, rows[counted, 0].sum())),
            "exact": float(rows[:, 3].mean()),
            "exact_by_length": {int(length): float(rows[rows[:, 0] == length, 3].mean())
                                for length in np.unique(rows[:, 0])},
            "answers": answers,
            "parts": parts,
        }
    return figures


def _read_cells(read, reader, split, count, cells, n_jobs):
    """`read(reader, kind, spacing, numbers, offset)` of the split's `count` numbers for each
    (kind, spacing) of `cells`, `n_jobs` at a time: each cell's rows, in order."""
    numbers = number_set(split, count)
    return Parallel(n_jobs=n_jobs)(
        delayed(read)(reader, kind, spacing, numbers, SPLITS[split].start)
        for kind, spacing in cells)


# How deep touching strokes run into each other, in pixels of the 100-pixel line whose strokes
# are about 10 wide: meeting, a quarter, half and a whole stroke past meeting.
OVERLAPS = (0, 3, 5, 10)


def evaluate_overlaps(reader, split="test", count=240, kinds=NUMBER_KINDS, overlaps=OVERLAPS,
                      n_jobs=2):
    """The touching numbers of `evaluate_numbers` drawn with their strokes each of `overlaps`
    pixels past meeting, instead of 0-2 at random: {kind: {overlap: share counted right}}."""
    numbers = number_set(split, count)
    cells = [(kind, overlap) for kind in kinds for overlap in overlaps]
    results = Parallel(n_jobs=n_jobs)(
        delayed(read_numbers)(reader, kind, "touching", numbers, SPLITS[split].start, overlap)
        for kind, overlap in cells)
    shares = {kind: {} for kind in kinds}
    for (kind, overlap), rows in zip(cells, results):
        shares[kind][overlap] = float(np.mean([row[0] == row[1] for row in rows]))
    return shares


# A pixel of a line's ink belongs to the digit whose own upload is darkest there, if that is
# this many grey levels under the paper's (a tenth of the ink's): ink no digit drew (a rule,
# dust) belongs to none.
DREW_IT = 24


def drawn_by(region, each, paper):
    """Which digit drew each pixel of a line's Region: an int array of its mask's shape, the
    index in `each` (the bytes of each digit alone in the same upload,
    `uploads.render_number_by_digit`, whose `paper` has no ink) of the one darkest there, or
    -1 where none is DREW_IT under the paper."""
    paper = _grey(paper)
    darkness = np.stack([paper - _grey(data) for data in each])
    height, width = region.mask.shape
    left, top, right, bottom = region.box
    per_x, per_y = region.upload_scale
    # the upload pixel under the middle of each of the region's pixels
    rows = ((top + (np.arange(height) + 0.5) * (bottom - top) / height) * per_y).astype(int)
    cols = ((left + (np.arange(width) + 0.5) * (right - left) / width) * per_x).astype(int)
    under = darkness[:, np.clip(rows, 0, paper.shape[0] - 1)][
        :, :, np.clip(cols, 0, paper.shape[1] - 1)]
    return np.where(under.max(axis=0) >= DREW_IT, under.argmax(axis=0), -1)


def _grey(data):
    """An upload's bytes as grey levels (float), a transparent one laid on white."""
    with Image.open(io.BytesIO(data)) as image:
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, image.convert("RGBA")).convert("L"),
                          dtype=np.float32)


# The drawn-pixel judge's score of a piece: minus this many for each mean digit's worth of ink
# it holds of other digits or misses of its own. Large beside the search's margins (2-4 log
# points, set for the models' scores), so that they do not keep it from cutting; linear in the
# pixels, so that a small digit run into a large one costs its whole ink (a log of the shares
# let a 1 beside an 8 stay whole: 80 % pure).
DRAWN_SCALE = 10.0


def _ink_drawn(owner, core, digits):
    """Each of `digits` digits' pixels in a line's `core` (`owner`, `drawn_by`'s), and a mean
    digit's (at least 1)."""
    drawn = np.bincount(owner[core & (owner >= 0)], minlength=digits)
    return drawn, max(1.0, float(drawn.sum()) / digits)


def judge_by_drawn_pixels(owner, core, digits):
    """A judge for `segmentation.segment` that knows which of `digits` digits drew each pixel
    of a line (`owner`, `drawn_by`'s, on the mask the search parts, `core`): a piece scores
    minus DRAWN_SCALE for each mean digit's ink it holds of other digits or misses of the one
    it holds most of: 0 for one digit's whole ink. The search's best with it is the best its
    candidate cuts offer."""
    drawn, mean = _ink_drawn(owner, core, digits)

    def judge(pieces, _height):
        scores = []
        for piece in pieces:
            left, top, right, bottom = piece.box
            under = owner[top:bottom, left:right][piece.mask]
            held = np.bincount(under[under >= 0], minlength=digits)
            main = int(held.argmax())
            wrong = (held.sum() - held[main]) + (drawn[main] - held[main])
            scores.append(-DRAWN_SCALE * float(wrong) / mean)
        return np.array(scores)
    return judge


# A cut parts two neighbouring digits when it puts at most this share of a mean digit's ink on
# the wrong side (a few pixels where their strokes meet)
PARTED_WITHIN = 0.05


def wrong_side(left, right, paths=None):
    """The fewest pixels of two neighbouring digits' ink (`left`, `right`: boolean masks of one
    line, `left` the digit written first) that a cut puts on the wrong side: of every cut a
    shortest path could be (`fewest_wrong_path`); or, given `paths` (a column per row, as
    cut_paths gives), of those (None when there are none)."""
    if paths is None:
        return fewest_wrong_path(left, right)[1]
    wrong = _wrong_at(left, right)
    rows = np.arange(left.shape[0])
    return min((int(wrong[rows, path].sum()) for path in paths), default=None)


def fewest_wrong_path(left, right):
    """Of every cut a shortest path could be (top to bottom, at most a column aside a row:
    `cuts.cut_paths`; a drop-fall may step further aside), the one that puts the fewest pixels
    of two neighbouring digits' ink (`left`, `right`: boolean masks of one line) on the wrong
    side, found by dynamic programming: (the path, a column per row as cut_paths gives it,
    and those pixels)."""
    wrong = _wrong_at(left, right)
    height = wrong.shape[0]
    total = wrong[0]
    came_from = np.zeros(wrong.shape, dtype=np.int64)  # -1, 0, +1: the column above it
    for row in range(1, height):
        padded = np.pad(total, 1, constant_values=np.inf)
        above = np.stack([padded[1:-1], padded[:-2], padded[2:]])  # own column first on a tie
        choice = above.argmin(axis=0)
        came_from[row] = np.array([0, -1, 1])[choice]
        total = wrong[row] + above[choice, np.arange(total.size)]
    path = np.zeros(height, dtype=np.int64)
    path[-1] = int(total.argmin())
    for row in range(height - 1, 0, -1):
        path[row - 1] = path[row] + came_from[row, path[row]]
    return path, int(total.min())


def _wrong_at(left, right):
    """wrong[y, c]: the pixels a cut leaving row y at column c (keeping the columns left of c)
    puts on the wrong side: the left digit's at c and after, and the right digit's before c."""
    height, width = left.shape
    wrong = np.zeros((height, width + 1))
    wrong[:, :width] = np.cumsum(left[:, ::-1], axis=1)[:, ::-1]
    wrong[:, 1:] += np.cumsum(right, axis=1)
    return wrong


def read_parted_by_best_paths(reader, masks, labels):
    """Digits right of a line's digits (`labels`), each digit's pixels (`masks`: boolean, one
    per digit, as `drawn_by` gives them) parted from the next's by the path that puts the
    fewest of the two's pixels on the wrong side (`fewest_wrong_path`), the pixels no digit
    drew left out: the best a cut path, rather than a parting of each pixel, can do."""
    drawn = np.logical_or.reduce(masks)
    height, width = drawn.shape
    edges = [np.zeros(height, dtype=np.int64)]
    for left, right in zip(masks, masks[1:]):
        path, _ = fewest_wrong_path(left, right)
        edges.append(np.maximum(path, edges[-1]))  # a digit's path never crosses the last one
    edges.append(np.full(height, width, dtype=np.int64))
    columns = np.arange(width)
    pieces = [drawn & (columns >= left[:, None]) & (columns < right[:, None])
              for left, right in zip(edges, edges[1:])]
    held = [index for index, piece in enumerate(pieces) if piece.any()]
    if not held:
        return 0
    answers = reader.probabilities(counts_of([pieces[index] for index in held]))
    return int((answers.argmax(axis=1) == np.asarray(labels)[held]).sum())


def pairs_parted(owner, core, digits):
    """Of a line's neighbouring digits (`owner`, `drawn_by`'s, on the mask the search parts,
    `core`, drawn by `digits` digits), how many pairs some cut path parts (`wrong_side` within
    PARTED_WITHIN of a mean digit's ink), how many the cheapest path through some column of
    the ink's middle row does (`cuts.paths_through_middle`: every path the search's candidates
    are chosen from), and how many one of the search's candidate paths through the line's ink
    does (`segmentation.candidate_paths`, as for one blob as wide and as tall as the ink): (by
    a path, by a middle path, by a candidate)."""
    within = PARTED_WITHIN * _ink_drawn(owner, core, digits)[1]
    rows, columns = np.flatnonzero(core.any(axis=1)), np.flatnonzero(core.any(axis=0))
    if rows.size == 0:
        return 0, 0, 0
    # the ink alone, as the search cuts it (each blob in its box; the paper around the line
    # would take candidates of its own, cheap paths that part nothing)
    box = np.s_[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
    core, owner = core[box], owner[box]
    middle, paths = paths_through_middle(core), candidate_paths(core, core.shape[0])
    parted = np.zeros(3, dtype=int)
    for digit in range(digits - 1):
        left, right = core & (owner == digit), core & (owner == digit + 1)
        for which, among in enumerate((None, middle, paths)):
            wrong = wrong_side(left, right, among)
            parted[which] += wrong is not None and wrong <= within
    return tuple(int(count) for count in parted)


def read_given_their_pixels(reader, kind, spacing, numbers, offset=0):
    """Read each number as `read_numbers` does, again parted by the search with a judge that
    knows which digit drew each pixel (`judge_by_drawn_pixels`: the best of the search's
    candidate cuts), and again with its line's ink parted by which digit drew each pixel
    (`drawn_by`) instead of by the search: per number, (length, digits found, digits right
    when the count is right, digits right so parted, digits the best cuts found, digits right
    of those when the count is right, neighbouring pairs some cut path parts, pairs the
    cheapest path through a column of the ink's middle row parts, pairs one of the search's
    candidate paths parts: `pairs_parted`; digits right parted by the best path between each
    two, `read_parted_by_best_paths`); the last seven None when the page shows other than one
    line. How far the search's cuts are from the best its candidates offer, those from the
    best paths, the best paths from the best any parting of the same pixels could do, and
    the candidates from the cuts any path could be."""
    rows = []
    for index, (images, labels) in enumerate(numbers):
        whole, each, paper = render_number_by_digit(images, kind, spacing, offset + index)
        # read_number's stages, the lines' regions kept for the parting below: decoded once
        regions = line_regions(locate_page(reader.decode(whole)))
        try:
            reading = reader.answer(count_blocks(reader.segment(regions)))
            found = np.array([digit.digit for digit in reading.digits])
        except DigitsError:
            found = np.array([], dtype=int)
        right = int((found == labels).sum()) if len(found) == len(labels) else 0
        parted = best_found = best_right = by_path = by_middle = by_candidate = None
        by_best_paths = None
        if len(regions) == 1:
            region = regions[0]
            owner = drawn_by(region, each, paper)
            masks = [region.mask & (owner == digit) for digit in range(len(labels))]
            drawn = [digit for digit, mask in enumerate(masks) if mask.any()]
            parted = 0
            if drawn:
                answers = reader.probabilities(
                    counts_of([masks[digit] for digit in drawn])).argmax(axis=1)
                parted = int((answers == labels[drawn]).sum())
            by_best_paths = read_parted_by_best_paths(reader, masks, labels)
            core = region.mask if region.core is None else region.core
            best_found, best_right = _best_cuts(reader, region, core, owner, labels)
            by_path, by_middle, by_candidate = pairs_parted(owner, core, len(labels))
        rows.append((len(labels), len(found), right, parted, best_found, best_right, by_path,
                     by_middle, by_candidate, by_best_paths))
    return rows


def _best_cuts(reader, region, core, owner, labels):
    """(digits found, digits right when as many as `labels`) of a line Region (`core`: the
    mask its search parts) segmented with the drawn-pixel judge (`judge_by_drawn_pixels`) and
    read by the reader's digit model."""
    try:
        digits, _ = segment(region.mask, judge_by_drawn_pixels(owner, core, len(labels)),
                            core=region.core)
    except DigitsError:
        return 0, 0
    if len(digits) != len(labels):
        return len(digits), 0
    answers = reader.probabilities(counts_of([digit.mask for digit in digits]))
    return len(digits), int((answers.argmax(axis=1) == labels).sum())


def evaluate_given_their_pixels(reader, split="test", count=240, kinds=NUMBER_KINDS,
                                spacings=("touching", "separated"), n_jobs=2):
    """`read_given_their_pixels` for every kind and spacing: {(kind, spacing): {n, count_right,
    digits_right (as read, of the numbers counted right and found on one line), given_pixels
    (the digits of the same numbers given the pixels they drew), best_paths (the same
    digits parted by the best path between each two: `read_parted_by_best_paths`),
    best_count_right and best_digits_right (of the numbers found on one line, parted by the
    best of the search's candidate cuts: counted right, and digits right of those),
    pairs_a_path_parts, pairs_a_middle_path_parts and pairs_a_candidate_parts (of their
    neighbouring digits, the share some cut path parts, the cheapest path through some column
    of the middle row does, and one of the search's candidate paths does: `pairs_parted`)}}."""
    cells = [(kind, spacing) for spacing in spacings for kind in kinds]
    results = _read_cells(read_given_their_pixels, reader, split, count, cells, n_jobs)
    figures = {}
    for cell, rows in zip(cells, results):
        counted = [row for row in rows if row[0] == row[1] and row[3] is not None]
        digits = max(1, sum(row[0] for row in counted))
        figures[cell] = {"n": len(rows),
                         "count_right": float(np.mean([row[0] == row[1] for row in rows])),
                         "digits_right": sum(row[2] for row in counted) / digits,
                         "given_pixels": sum(row[3] for row in counted) / digits,
                         "best_paths": sum(row[9] for row in counted) / digits}
        one_line = [row for row in rows if row[4] is not None]
        best = [row for row in one_line if row[4] == row[0]]
        figures[cell]["best_count_right"] = len(best) / max(1, len(one_line))
        figures[cell]["best_digits_right"] = (sum(row[5] for row in best)
                                              / max(1, sum(row[0] for row in best)))
        pairs = max(1, sum(row[0] - 1 for row in one_line))
        figures[cell]["pairs_a_path_parts"] = sum(row[6] for row in one_line) / pairs
        figures[cell]["pairs_a_middle_path_parts"] = sum(row[7] for row in one_line) / pairs
        figures[cell]["pairs_a_candidate_parts"] = sum(row[8] for row in one_line) / pairs
    return figures


def page_set(split="test", count=120):
    """`count` pages of 2-5 lines in turn, each line a number of 1-6 digits taken in order from
    the split's handwriting: [(lines' images, lines' labels)]."""
    numbers, pages, start = number_set(split, count * 4, longest=6), [], 0
    for index in range(count):
        lines = 2 + index % 4
        chosen = numbers[start:start + lines]
        pages.append(([images for images, _ in chosen], [labels for _, labels in chosen]))
        start = (start + lines) % (len(numbers) - 5)
    return pages


def read_pages(reader, kind, pages, offset=0):
    """Render each page (lines of digits, with their labels) as an upload of `kind` and read it
    as POST /read does: per page, (lines written, lines found, whether the lines and every
    line's digits were counted right, whether every digit was read right)."""
    rows = []
    for index, (images, labels) in enumerate(pages):
        try:
            found = [[digit.digit for digit in line.digits]
                     for line in reader.read_number(render_page(images, kind,
                                                                offset + index)).lines]
        except DigitsError:
            found = []
        counted = len(found) == len(labels) and all(len(line) == len(written)
                                                    for line, written in zip(found, labels))
        exact = counted and all(list(line) == list(written)
                                for line, written in zip(found, labels))
        rows.append((len(labels), len(found), counted, exact))
    return rows


def evaluate_pages(reader, split="test", count=120, kinds=PAGE_KINDS, n_jobs=2):
    """Pages of 2-5 lines per upload kind: {kind: {lines_right: share with as many lines as
    written, counted_right: share with the lines and every line's digits counted right,
    exact: share read exactly}}."""
    pages = page_set(split, count)
    results = Parallel(n_jobs=n_jobs)(
        delayed(read_pages)(reader, kind, pages, SPLITS[split].start) for kind in kinds)
    return {kind: {"n": len(rows),
                   "lines_right": float(np.mean([row[0] == row[1] for row in rows])),
                   "counted_right": float(np.mean([row[2] for row in rows])),
                   "exact": float(np.mean([row[3] for row in rows]))}
            for kind, rows in zip(kinds, results)}


MARK_SYMBOLS = {"point": ".", "comma": ",", "dash": "-", "space": " ", "minus": "-"}
SIGNS = {"minus"}  # the marks written before the first digit rather than between two
MARK_LONGEST = 6  # the marked numbers have 3 to this many digits
READ_AS = {",": "."}  # what /read answers for a mark written otherwise: a decimal comma, a point


def read_marks(reader, kind, numbers, offset=0):
    """Render each number (of three digits or more) once with each of MARK_SYMBOLS between two
    of its digits (a sign, SIGNS, before the first), and once without, and read it as POST
    /read does: per number and symbol (None: without), whether the number's shape came out
    as written ("dd.dd", "-ddd": its digits counted right, the symbol in its place as /read
    answers it, a comma as a point, nothing else between or before them)."""
    rows = []
    for index, (images, labels) in enumerate(numbers):
        for name, symbol in [*MARK_SYMBOLS.items(), (None, None)]:
            after = 0 if name in SIGNS else 1 + index % (len(labels) - 1)
            written = {after: symbol} if symbol else None
            data = render_number(images, kind, "separated", offset + index, written)
            read = READ_AS.get(symbol, symbol or "")
            expected = "d" * after + read + "d" * (len(labels) - after)
            try:
                shape = "".join("d" if c.isdigit() else c for c in reader.read_number(data).number)
            except DigitsError:
                shape = ""
            rows.append((name, shape == expected))
    return rows


def mark_numbers(split="test", count=120):
    """The first `count` numbers of 3-MARK_LONGEST digits of `number_set`'s of 1-MARK_LONGEST
    (two in three of them are that long)."""
    numbers = number_set(split, 2 * count + MARK_LONGEST, longest=MARK_LONGEST)
    return [number for number in numbers if len(number[1]) >= 3][:count]


def evaluate_marks(reader, split="test", count=120, kinds=NUMBER_KINDS, n_jobs=2):
    """`count` numbers of 3-6 digits (`mark_numbers`) with a point, a comma, a dash or a space
    written between two digits, or a minus sign before them, per upload kind: {kind: {"n":
    count, symbol name: share read in its place, "none": share of the same numbers without a
    mark read with none}}."""
    numbers = mark_numbers(split, count)
    results = Parallel(n_jobs=n_jobs)(
        delayed(read_marks)(reader, kind, numbers, SPLITS[split].start) for kind in kinds)
    figures = {}
    for kind, rows in zip(kinds, results):
        figures[kind] = {"n": len(numbers)}
        figures[kind].update({name or "none": float(np.mean([ok for mark, ok in rows
                                                              if mark == name]))
                              for name in [*MARK_SYMBOLS, None]})
    return figures
