"""Strings of handwritten digits synthesised from `load_digits` alone, and the pieces the
segmentation search would judge in them, labelled: what the segmentation model learns from.

Each string is a few `load_digits` digits redrawn as bitmaps (`augment.counts_to_bitmap`),
distorted as handwriting varies, sized and placed on one line so that they touch or overlap
(or, now and then, stand a little apart), their ink a boolean mask like a line region's. The
search's own shortest cut paths (`segmentation.candidate_pieces`) are then made through every
blob wide enough to be searched, and each piece is labelled by the digits' ink it holds.
"""

import numpy as np
from PIL import Image

from digits.core.ink import bands
from digits.core.segmentation import ONE, SEVERAL_DIGITS, FRAGMENT, candidate_pieces
from digits.lab.augment import counts_to_bitmap, distort

LENGTHS = (1, 2, 2, 3, 3, 4, 5)  # a string's length, drawn uniformly from these
HEIGHTS = (14, 64)  # a line mask's height in pixels: a small photo's line to ink.DIGIT_SIDE
OVERLAP = (-0.04, 0.12)  # how far a digit is pushed into the previous one, for the height
APART = 0.12  # the share of neighbours set a little apart (a gap up to 0.15 of the height)
ONE_SHARE, OTHER_SHARE = 0.8, 0.2  # one digit: this much of its ink, this little of another's
SEVERAL_SHARE = 0.5  # several digits: this much of each of two digits' ink


def string_mask(images, rng):
    """One string of the 8x8 `images` (counts): (its ink as a boolean mask, each digit's own
    ink in the mask's frame)."""
    height = int(rng.integers(HEIGHTS[0], HEIGHTS[1] + 1))
    digits = [_digit_ink(counts, height, rng) for counts in images]
    width = sum(ink.shape[1] for ink, _ in digits) + height * len(digits)
    owners, x = [], 0
    line = np.zeros((height, width), dtype=bool)
    for ink, top in digits:
        if owners:
            x = _next_x(line, ink, top, x, height, rng)
        own = np.zeros_like(line)
        own[top:top + ink.shape[0], x:x + ink.shape[1]] = ink
        line |= own
        owners.append(own)
        x += ink.shape[1]
    used = np.flatnonzero(line.any(axis=0))
    return line[:, :used[-1] + 1], [own[:, :used[-1] + 1] for own in owners]


def labelled_pieces(images, seed):
    """The candidate pieces of strings made of `images` (each row a string's 8x8 counts, in
    LENGTHS' lengths in turn): their Segments with the height of their line, and each one's
    label (ONE, FRAGMENT or SEVERAL_DIGITS)."""
    rng = np.random.default_rng(seed)
    pieces, labels, start = [], [], 0
    while start < len(images):
        length = LENGTHS[int(rng.integers(len(LENGTHS)))]
        line, owners = string_mask(images[start:start + length], rng)
        start += length
        if len(bands(line.any(axis=1))) > 1:  # digits set so far apart in height that no
            continue                          # row holds both: two rows, not one line
        for piece, height in candidate_pieces(line):
            pieces.append((piece, height))
            labels.append(_label(piece, owners))
    return pieces, np.array(labels)


def _digit_ink(counts, height, rng):
    """A digit redrawn from its counts, distorted, cut to its ink and sized for a line
    `height` pixels tall: (its mask, its top in the line)."""
    bitmap = distort(counts_to_bitmap(counts), rng)
    rows, cols = np.flatnonzero(bitmap.any(axis=1)), np.flatnonzero(bitmap.any(axis=0))
    bitmap = bitmap[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    size = height * rng.uniform(0.75, 0.97)
    scale = size / bitmap.shape[0]
    width = max(1, round(bitmap.shape[1] * scale * rng.uniform(0.85, 1.2)))
    soft = np.asarray(Image.fromarray(bitmap.astype(np.float32)).resize(
        (width, max(2, round(size))), Image.Resampling.BILINEAR))
    ink = soft >= rng.uniform(0.45, 0.7)
    if not ink.any():
        ink = soft >= soft.max() / 2
    return ink, int(rng.integers(0, height - ink.shape[0] + 1))


def _next_x(line, ink, top, x, height, rng):
    """Where the next digit's box starts after `x` (the line's ink so far ends there): where
    its strokes meet the previous digit's, pushed in by OVERLAP of the height, or a little
    apart."""
    if rng.random() < APART:
        return x + round(height * rng.uniform(0.0, 0.15))
    contact = None
    for row in range(ink.shape[0]):
        previous = np.flatnonzero(line[top + row, :x])
        own = np.flatnonzero(ink[row])
        if previous.size and own.size:
            start = previous[-1] - own[0]
            contact = start if contact is None else max(contact, start)
    if contact is None:
        contact = x - 1
    return max(0, contact - round(height * rng.uniform(*OVERLAP)))


def _label(piece, owners):
    """ONE when the piece holds most of one digit's ink and little of any other's,
    SEVERAL_DIGITS when it holds half of two digits' or more, FRAGMENT otherwise."""
    left, top, right, bottom = piece.box
    shares = []
    for own in owners:
        inside = own[top:bottom, left:right] & piece.mask
        shares.append(inside.sum() / max(1, own.sum()))
    shares = np.sort(shares)[::-1]
    second = shares[1] if len(shares) > 1 else 0.0
    if shares[0] >= ONE_SHARE and second <= OTHER_SHARE:
        return ONE
    if second >= SEVERAL_SHARE:
        return SEVERAL_DIGITS
    return FRAGMENT
