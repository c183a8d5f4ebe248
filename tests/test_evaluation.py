"""The real-handwriting evaluation: its pieces, and a slice of it guarding accuracy in CI."""

import io

import numpy as np
import pytest
from PIL import Image

import evaluate
from conftest import METADATA, READER, narrow_touching_pair
from digits.core.segmentation import Segment
from digits.lab import evaluation, uploads
from digits.lab.evaluation import fit_boundaries
from digits.lab.handwriting import handwriting

# Floors set from the figures measured on this slice with the shipped model (mean 0.913,
# lowest kind 0.875 on 40 digits per kind), a few digits below them.
SLICE = 40
FLOOR_MEAN = 0.87
FLOOR_KIND = 0.80
# Numbers: 16 of each length 1-8 in turn, scan and canvas; floors a few numbers under what the
# shipped model measured there (see test_numbers_are_read_with_the_right_count_on_a_slice).
NUMBER_FLOOR_COUNT = 0.8
NUMBER_FLOOR_DIGITS = 0.8


def test_ece_is_zero_when_confidence_matches_accuracy():
    probabilities = np.array([[0.8, 0.2]] * 10)
    labels = np.array([0] * 8 + [1] * 2)  # 80 % right at 80 % confidence
    assert evaluation.expected_calibration_error(probabilities, labels) == pytest.approx(0.0)


def test_ece_measures_overconfidence():
    probabilities = np.array([[0.99, 0.01]] * 10)
    labels = np.array([0] * 5 + [1] * 5)  # 50 % right at 99 % confidence
    assert evaluation.expected_calibration_error(probabilities, labels) == pytest.approx(0.49)


def test_rendered_uploads_are_deterministic_and_of_their_kind():
    images, _ = handwriting("dev", per_kind=1)
    expected = {"screen": "PNG", "scan": "TIFF", "photo": "JPEG", "canvas": "PNG",
                "ruled": "JPEG", "marker": "WEBP", "thin_pen": "PNG"}
    for kind in uploads.KINDS:
        first = uploads.render_upload(images[0], kind, 7)
        assert first == uploads.render_upload(images[0], kind, 7)
        image = Image.open(io.BytesIO(first))
        if kind in expected:
            assert image.format == expected[kind]
    photo = Image.open(io.BytesIO(uploads.render_upload(images[0], "photo", 7)))
    assert 0x0112 in photo.getexif()
    canvas = Image.open(io.BytesIO(uploads.render_upload(images[0], "canvas", 7)))
    assert canvas.mode == "RGBA" and np.asarray(canvas)[..., :3].max() == 0


def test_slice_of_real_handwriting_stays_above_its_floor():
    scores = evaluation.evaluate(READER, "test", per_kind=SLICE)
    accuracies = {kind: score["accuracy"] for kind, score in scores.items()}
    assert np.mean(list(accuracies.values())) >= FLOOR_MEAN, accuracies
    assert min(accuracies.values()) >= FLOOR_KIND, accuracies


def test_reading_each_kind_in_parts_scores_as_reading_it_whole(monkeypatch):
    parted = evaluation.evaluate(READER, "dev", per_kind=6, kinds=("photo", "canvas"))
    monkeypatch.setattr(evaluation, "CHUNKS_PER_KIND", 1)
    assert evaluation.evaluate(READER, "dev", per_kind=6, kinds=("photo", "canvas")) == parted


def test_held_out_and_drawn_load_digits_meet_their_targets():
    figures = evaluate.measure(READER, METADATA, per_kind=1, numbers=0, marks=0, pages=0,
                               overlaps=0, given_pixels=0)
    assert figures.heldout_accuracy >= evaluate.TARGETS["heldout"]
    assert figures.heldout_ece <= evaluate.TARGETS["ece"]
    assert figures.drawn_png_accuracy >= evaluate.TARGETS["drawn"]


def test_evaluate_command_prints_every_figure(capsys):
    evaluate.main(["--per-kind", "3", "--numbers", "2", "--marks", "2", "--pages", "2",
                   "--overlaps", "2", "--given-pixels", "2"])
    printed = capsys.readouterr().out
    for words in ["photo", "canvas", "mean", "held-out load_digits accuracy",
                  "held-out load_digits ECE", "drawn as 256x256 PNG", "confusion on real",
                  "refused as several digits", "handwritten numbers", "touching",
                  "exact by length", "a mark between two digits", "point", "comma", "dash",
                  "against exact-number correctness", "pages of 2-5 lines",
                  "strokes run further into each other", "given to the digit that drew it"]:
        assert words in printed


def test_the_report_holds_each_line_to_its_target():
    kind = {"n": 10, "accuracy": 0.95, "ece": 0.02, "rejected": 0}
    cell = {"kind": "scan", "n": 10, "count_right": 0.99, "digits_right": 0.945, "exact": 0.5,
            "exact_by_length": {1: 1.0, 2: 0.5}}
    figures = evaluate.Evaluation(**{
               "split": "test", "kinds": {"scan": kind, "photo": {**kind, "accuracy": 0.7}},
               "mean_accuracy": 0.95, "handwriting_ece": 0.08, "heldout_accuracy": 0.99,
               "threshold": 0.65, "sure_accuracy": 0.98, "uncertain_share": 0.15,
               "curve": [(0.5, 0.05, 0.96), (0.99, 1.0, None)],
               "heldout_ece": 0.01, "drawn_png_accuracy": 0.96, "confusion": [[0] * 10] * 10,
               "several_digits": 6, "read_several": 9, "single_digits": 1000,
               "numbers": [{**cell, "spacing": "separated"},
                           {**cell, "spacing": "tight", "count_right": 0.92},
                           {**cell, "spacing": "touching", "count_right": 0.75,
                            "digits_right": 0.93},
                           {**cell, "kind": "photo", "spacing": "touching",
                            "digits_right": 0.75},
                           {**cell, "kind": "squared", "spacing": "tight",
                            "digits_right": 0.93}],
               "marks": {"canvas": {"n": 120, "point": 0.96, "comma": 0.96, "dash": 0.9,
                                    "space": 0.97, "minus": 0.94, "none": 0.97},
                         "ruled": {"n": 120, "point": 0.96, "comma": 0.95, "dash": 0.95,
                                   "space": 0.97, "minus": 0.96, "none": 0.9}},
               "number_calibration": [0.19, [(0.9, 1.0, 626, 0.962, 0.797)]],
               "pages": {"scan": {"n": 10, "lines_right": 1.0, "counted_right": 0.96, "exact": 0.6},
                         "photo": {"n": 10, "lines_right": 0.9, "counted_right": 0.9,
                                   "exact": 0.5}}})
    report = evaluate.report(figures).splitlines()
    lines = {tuple(line.split()[:2]): line for line in report if line}
    lines.update({line.split()[0]: line.split() for line in report
                  if line.split()[:1] in (["answered"], ["right"])})
    assert lines["scan", "10"].endswith("ok") and lines["photo", "10"].endswith("BELOW TARGET")
    assert "BELOW TARGET" in lines["mean", "0.950"]  # accuracy met, calibration (ECE 0.08) not
    assert lines["answers", "not"].endswith("ok (>= 0.975)")  # 0.98 right when sure
    assert "BELOW TARGET" in lines["answers", "marked"]  # 15 % uncertain > 12 %
    assert lines["answered"][-2:] == ["95.0%", "0.0%"] and lines["right"][-1] == "-"
    assert "BELOW TARGET" in lines["load_digits", "drawn"]  # drawn PNG 0.96 < 0.97
    assert lines["canvas", "0.960"].endswith("BELOW TARGET: dash, minus")  # 0.90, 0.94 < 0.95
    assert lines["ruled", "0.960"].endswith("ok")
    assert "(test split, 120 per kind)" in lines["numbers", "of"]
    assert "ECE 0.190  BELOW TARGET (<= 0.05)" in lines["a", "number's"]
    assert "BELOW TARGET" in lines["single", "digits"]  # 0.6 % refused as several digits
    assert lines["POST", "/read"].endswith("9 of 1000 (0.90%)")  # no target: /predict's holds
    assert lines["scan", "separated"].endswith("ok")
    assert lines["scan", "tight"].endswith("BELOW TARGET: count right")  # 0.92 < 0.97
    # 0.75 < 0.80, and digits 0.93 more than a point under the scan's single digits (0.95)
    assert lines["scan", "touching"].endswith("BELOW TARGET: count right, digits right")
    assert lines["photo", "touching"].endswith("ok")  # 0.75 against the photo's singles 0.70
    # squared paper has no single digits: against their mean (0.95)
    assert lines["squared", "tight"].endswith("BELOW TARGET: digits right")
    assert lines["scan", "1.000"].endswith("ok")  # a page's lines and digits counted: 0.96
    assert lines["photo", "0.900"].endswith("BELOW TARGET")


def test_single_digits_are_counted_as_post_read_reads_them_too():
    """A touching pair under a height wide, alone on the page: /predict's reading answers one
    digit, /read's cuts it in two, and read_uploads counts it as /read reading several."""
    pair = narrow_touching_pair()
    digits, several, read_several = evaluation.read_uploads(READER, [pair])
    assert digits[0] is not None and several == 0 and read_several == 1


class _DigitsOnly:
    """A reader that reads single digits and refuses to be asked for a number."""

    def __init__(self, reader):
        self.read_digit = reader.read_digit

    def read_number(self, data):
        raise AssertionError("read as a number")


def test_threshold_tuning_reads_each_upload_once_as_a_single_digit():
    """The tuning needs only /predict's confidences: evaluate(as_numbers=False) never reads an
    upload as /read does (train.py's tuning at half the reading), and scores alike."""
    digits, several, read_several = evaluation.read_uploads(
        _DigitsOnly(READER), [narrow_touching_pair()], as_numbers=False)
    assert digits[0] is not None and several == 0 and read_several is None
    scores = evaluation.evaluate(_DigitsOnly(READER), "dev", per_kind=4, kinds=("scan",),
                                 n_jobs=1, as_numbers=False)
    both = evaluation.evaluate(READER, "dev", per_kind=4, kinds=("scan",), n_jobs=1)
    assert "read_several" not in scores["scan"]
    assert scores["scan"] == {key: value for key, value in both["scan"].items()
                              if key != "read_several"}


def test_answered_when_sure_splits_at_the_threshold():
    share, accuracy = evaluation.answered_when_sure([0.9, 0.8, 0.6, 0.3], [True, False, True,
                                                                          False], 0.65)
    assert share == 0.5 and accuracy == 0.5  # 0.9 right, 0.8 wrong; 0.6 and 0.3 uncertain
    assert evaluation.answered_when_sure([0.3], [True], 0.65) == (1.0, None)


def test_numbers_are_read_with_the_right_count_on_a_slice():
    figures = evaluation.evaluate_numbers(READER, "test", count=16,
                                          kinds=("scan", "canvas"), n_jobs=1)
    for (kind, spacing), cell in figures.items():
        assert cell["n"] == 16 and set(cell["exact_by_length"]) == set(range(1, 9))
        if spacing != "touching":
            assert cell["count_right"] >= NUMBER_FLOOR_COUNT, (kind, spacing, cell)
            assert cell["digits_right"] >= NUMBER_FLOOR_DIGITS, (kind, spacing, cell)


def test_points_dashes_spaces_and_minus_signs_written_are_read_in_place():
    shares = evaluation.evaluate_marks(READER, "test", count=12, kinds=("scan",))["scan"]
    assert shares["n"] == 12  # as many as asked (10 while it took 16 numbers of 1-6 digits)
    assert min(shares[name] for name in evaluation.MARK_SYMBOLS) >= 0.75, shares
    assert shares["none"] >= 0.75, shares


@pytest.mark.parametrize("count", [1, 2, 120])
def test_the_marked_numbers_are_as_many_as_asked_of_three_digits_or_more(count):
    numbers = evaluation.mark_numbers("dev", count)
    assert len(numbers) == count and all(3 <= len(labels) <= 6 for _, labels in numbers)


def test_pages_of_several_lines_are_read_line_by_line_on_a_slice():
    figures = evaluation.evaluate_pages(READER, "test", count=8, kinds=("scan",), n_jobs=1)
    assert figures["scan"]["n"] == 8
    assert figures["scan"]["lines_right"] >= 0.75 and figures["scan"]["counted_right"] >= 0.6


def test_touching_digits_are_drawn_as_deep_into_each_other_as_asked():
    """`overlap` pixels past meeting sets the next digit that much further left (the line is
    that much shorter), the same digits otherwise; unasked, they are 0-2 pixels past."""
    images, _ = evaluation.number_set("dev", 2)[1]

    def width(overlap):
        ink = uploads.number_ink(images, 100, "touching", np.random.default_rng(7),
                                 overlap=overlap)
        return ink.shape[1]

    meeting = width(0)
    assert [meeting - width(depth) for depth in (3, 5, 10)] == [3, 5, 10]
    assert width(2) <= width(None) <= meeting


def test_touching_numbers_are_counted_right_less_often_the_deeper_they_overlap():
    shares = evaluation.evaluate_overlaps(READER, "dev", count=24, kinds=("scan",),
                                          overlaps=(0, 10), n_jobs=1)["scan"]
    assert set(shares) == {0, 10}
    assert shares[0] >= 0.75 and shares[10] < shares[0], shares


def test_a_page_holds_two_to_five_lines_of_numbers_from_the_split():
    pages = evaluation.page_set("dev", count=8)
    assert [len(labels) for _, labels in pages] == [2, 3, 4, 5, 2, 3, 4, 5]
    assert all(1 <= len(line) <= 6 for _, labels in pages for line in labels)


def test_the_reliability_table_bins_confidences_and_weighs_each_bins_gap():
    ece, table = evaluation.reliability([0.95, 0.95, 0.15, 0.55], [True, False, False, True])
    assert [(low, count) for low, _, count, _, _ in table] == [(0.1, 1), (0.5, 1), (0.9, 2)]
    assert table[-1][3:] == (0.95, 0.5)
    assert ece == pytest.approx(0.5 * 0.45 + 0.25 * 0.15 + 0.25 * 0.45)


def test_the_boundaries_share_right_is_fitted_by_likelihood():
    """Numbers whose digits are sure but whose boundaries are right 0.95 (gaps) and 0.7 (cuts)
    of the time: the fit finds those shares back."""
    rng = np.random.default_rng(0)
    gaps, cuts = rng.integers(0, 5, 4000), rng.integers(0, 3, 4000)
    exact = rng.random(4000) < 0.95 ** gaps * 0.7 ** cuts
    gap, cut = fit_boundaries(list(zip(np.ones(4000), gaps, cuts)), exact)
    assert abs(gap - 0.95) <= 0.01 and abs(cut - 0.7) <= 0.03


def test_each_digit_of_a_rendered_number_is_drawn_alone_on_the_same_upload():
    images, _ = handwriting("dev")
    whole, each, paper = uploads.render_number_by_digit(images[:3], "photo", "touching", 5)
    assert whole == uploads.render_number(images[:3], "photo", "touching", 5)
    grey = [evaluation._grey(data) for data in (whole, *each, paper)]
    inked = [grey[-1] - level >= evaluation.DREW_IT for level in grey[:-1]]
    # the same paper and placement: every digit's own ink is ink of the number, left to right
    middles = []
    for alone in inked[1:]:
        assert alone.sum() > 100 and (alone & inked[0]).sum() >= 0.95 * alone.sum()
        middles.append(np.flatnonzero(alone.any(axis=0)).mean())
    assert middles == sorted(middles)
    assert (inked[0] & ~np.logical_or.reduce(inked[1:])).sum() <= 0.05 * inked[0].sum()


def test_the_pixels_of_touching_digits_go_to_the_digit_that_drew_them():
    images, labels = handwriting("dev")
    whole, each, paper = uploads.render_number_by_digit(images[:2], "scan", "touching", 3)
    [region] = evaluation.line_regions(evaluation.locate_page(READER.decode(whole)))
    owner = evaluation.drawn_by(region, each, paper)
    columns = np.nonzero(region.mask)[1]
    owned = owner[region.mask]
    assert (owned >= 0).mean() > 0.95  # the line's ink is the digits'
    assert columns[owned == 0].mean() < columns[owned == 1].mean()
    # the two digits' boxes overlap, so no vertical line parts them as their pixels do
    assert columns[owned == 0].max() > columns[owned == 1].min()


def test_digits_given_their_own_pixels_are_counted_beside_the_search():
    numbers = evaluation.number_set("dev", 8)
    rows = evaluation.read_given_their_pixels(READER, "scan", "touching", numbers,
                                              evaluation.SPLITS["dev"].start)
    read = evaluation.read_numbers(READER, "scan", "touching", numbers,
                                   evaluation.SPLITS["dev"].start)
    assert [row[:3] for row in rows] == [row[:3] for row in read]
    assert all(row[3] is not None and 0 <= row[3] <= row[0] for row in rows)
    assert sum(row[3] for row in rows) >= 0.8 * sum(row[0] for row in rows)
    assert all(row[4] is not None and 0 <= row[5] <= row[0] for row in rows)
    assert all(row[9] is not None and 0 <= row[9] <= row[0] for row in rows)
    figures = evaluation.evaluate_given_their_pixels(READER, "dev", 8, kinds=("scan",))
    cell = figures["scan", "touching"]
    counted = [row for row in rows if row[0] == row[1]]
    assert cell["given_pixels"] == sum(row[3] for row in counted) / sum(row[0] for row in counted)
    assert cell["digits_right"] == sum(row[2] for row in counted) / sum(row[0] for row in counted)
    assert cell["best_paths"] == sum(row[9] for row in counted) / sum(row[0] for row in counted)
    best = [row for row in rows if row[4] == row[0]]
    assert cell["best_count_right"] == len(best) / len(rows)
    assert cell["best_digits_right"] == sum(row[5] for row in best) / sum(row[0] for row in best)
    # a middle path is a path; a candidate may be a drop-fall, which can step further aside
    assert all(0 <= row[7] <= row[6] <= row[0] - 1 and 0 <= row[8] <= row[0] - 1 for row in rows)
    pairs = sum(row[0] - 1 for row in rows)
    assert cell["pairs_a_path_parts"] == sum(row[6] for row in rows) / pairs
    assert cell["pairs_a_middle_path_parts"] == sum(row[7] for row in rows) / pairs
    assert cell["pairs_a_candidate_parts"] == sum(row[8] for row in rows) / pairs


def two_rings_joined():
    """A line mask of two rings 20 pixels tall joined by a bar at mid-height, and which of two
    digits drew each pixel (the left ring and the bar's left half the first)."""
    mask = np.zeros((20, 34), dtype=bool)
    for left in (0, 20):
        mask[:, left:left + 14] = True
        mask[4:16, left + 4:left + 10] = False
    mask[9:11, 14:20] = True
    owner = np.where(mask, (np.arange(34) >= 17).astype(int), -1)
    return mask, owner


def test_the_drawn_pixel_judge_scores_each_piece_by_the_ink_it_holds_wrongly():
    mask, owner = two_rings_joined()
    judge = evaluation.judge_by_drawn_pixels(owner, mask, 2)
    whole = Segment(mask, (0, 0, 34, 20))
    left = Segment(mask[:, :17], (0, 0, 17, 20))
    half = Segment(mask[:, :7], (0, 0, 7, 20))
    scores = judge([whole, left, half], 20)
    assert scores[1] == 0.0  # the first digit's ink, all of it, and nothing else
    # the whole holds the second digit's ink (a digit's worth, the mean) beside the first's
    assert scores[0] == pytest.approx(-evaluation.DRAWN_SCALE)
    assert -evaluation.DRAWN_SCALE < scores[2] < 0  # half the first digit's ink missing


def test_the_search_judged_by_the_drawn_pixels_cuts_where_the_digits_meet():
    """The best of the search's candidate cuts (`_best_cuts`' search): two rings joined by a
    bar, drawn by two digits, come out as the two, each holding only its own ink."""
    mask, owner = two_rings_joined()
    digits, _ = evaluation.segment(mask, evaluation.judge_by_drawn_pixels(owner, mask, 2))
    assert len(digits) == 2
    for number, digit in enumerate(digits):
        left, top, right, bottom = digit.box
        assert set(owner[top:bottom, left:right][digit.mask]) == {number}


def a_bar_under_its_neighbour():
    """Two digits' masks on a line 20 pixels tall: the first a bar along the bottom two rows,
    columns 0-30; the second a block above the bar's right half, columns 15-25."""
    first, second = np.zeros((20, 34), dtype=bool), np.zeros((20, 34), dtype=bool)
    first[18:, :31] = True
    second[:18, 15:26] = True
    return first, second


def test_a_cut_path_parts_digits_side_by_side_but_not_a_stroke_run_under_its_neighbour():
    mask, owner = two_rings_joined()
    assert evaluation.wrong_side(owner == 0, owner == 1) == 0
    first, second = a_bar_under_its_neighbour()
    # a cut moves at most a column a row: it cannot pass left of the block, then right of the
    # bar's end two rows lower
    assert evaluation.wrong_side(first, second) > 0
    straight = np.full(20, 17)  # through column 17 in every row: keeps columns 0-16 left
    assert evaluation.wrong_side(first, second, [straight]) == 2 * 18 + 2 * 14
    assert evaluation.wrong_side(first, second, []) is None


def test_the_path_with_the_fewest_pixels_on_the_wrong_side_is_the_one_wrong_side_counts():
    mask, owner = two_rings_joined()
    path, wrong = evaluation.fewest_wrong_path(owner == 0, owner == 1)
    assert wrong == 0
    assert path[10] == 17  # through the bar where its halves meet
    assert np.all(np.abs(np.diff(path)) <= 1)  # a column aside a row at most, as cut paths
    first, second = a_bar_under_its_neighbour()
    path, wrong = evaluation.fewest_wrong_path(first, second)
    assert wrong == evaluation.wrong_side(first, second) > 0
    assert evaluation.wrong_side(first, second, [path]) == wrong


class PiecesRead:
    """A reader's stand-in that keeps the 8x8 counts of the pieces it is asked to read and
    answers each as the digit 0."""

    def __init__(self):
        self.counts = []

    def probabilities(self, counts):
        self.counts.extend(counts)
        answers = np.zeros((len(counts), 10))
        answers[:, 0] = 1.0
        return answers


def test_digits_parted_by_the_best_paths_are_read_from_their_own_pixels_where_a_path_can():
    mask, owner = two_rings_joined()
    reader = PiecesRead()
    assert evaluation.read_parted_by_best_paths(reader, [owner == 0, owner == 1],
                                                np.array([0, 3])) == 1
    for counts, digit in zip(reader.counts, (0, 1)):
        assert np.array_equal(counts, evaluation.counts_of([owner == digit])[0])
    # a bar run under its neighbour: no path gives each digit its own pixels
    first, second = a_bar_under_its_neighbour()
    reader = PiecesRead()
    evaluation.read_parted_by_best_paths(reader, [first, second], np.array([0, 3]))
    assert not np.array_equal(reader.counts[0], evaluation.counts_of([first])[0])


def test_pairs_parted_counts_the_pairs_a_path_a_middle_path_and_a_candidate_part(monkeypatch):
    mask, owner = two_rings_joined()
    assert evaluation.pairs_parted(owner, mask, 2) == (1, 1, 1)
    # the search's candidates chosen otherwise: a middle path still parts them, no candidate
    monkeypatch.setattr(evaluation, "candidate_paths", lambda mask, height: [])
    assert evaluation.pairs_parted(owner, mask, 2) == (1, 1, 0)
    first, second = a_bar_under_its_neighbour()
    owner = np.where(first, 0, np.where(second, 1, -1))
    assert evaluation.pairs_parted(owner, first | second, 2) == (0, 0, 0)


def test_a_pair_parted_by_a_path_but_by_no_cheapest_path_through_the_middle_row():
    """Two rings (24 pixels tall, 12 wide, walls of 2) joined along their tops, across a gap of
    4 columns, by a bar 6 rows thick: straight down the gap parts them (the bar's halves are
    theirs), but the cheapest path through each column of the gap bends into a ring and cuts
    its top wall (4 ink pixels against the bar's 6), and through any other column it halves a
    ring: the kind of path the candidates are chosen from misses the pair."""
    mask = np.zeros((24, 28), dtype=bool)
    for left in (0, 16):
        mask[:, left:left + 12] = True
        mask[2:22, left + 2:left + 10] = False
    mask[:6, 12:16] = True
    owner = np.where(mask, (np.arange(28) >= 14).astype(int), -1)
    assert evaluation.pairs_parted(owner, mask, 2) == (1, 0, 0)
