"""The HTTP contract of POST /read and /read/batch: a handwritten number, digit by digit."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from conftest import METADATA, encode, post_image, small_writing_page
from digits.core.reading import CUT_RIGHT, GAP_RIGHT
from digits.lab.handwriting import handwriting
from digits.lab.uploads import KINDS, render_number, render_upload
from service import create_app


def strokes(lefts, width=None, marks=()):
    """A page with a '1'-like stroke (90 pixels tall) at each of `lefts`, and `marks` drawn as
    (top, left, height, width) rectangles: dark ink on light paper, as a uint8 array."""
    page = np.full((140, width or max(lefts) + 80, ), 250, dtype=np.uint8)
    for left in lefts:
        page[25:115, left : left + 14] = 20
    for top, left, height, width in marks:
        page[top : top + height, left : left + width] = 20
    return page


def read(client, data, query=""):
    return post_image(client, data, filename="number.png", query=query, path="/read")


def test_read_answers_the_documented_body(client):
    response = read(client, encode(strokes([30, 100, 170])), "?top_k=2")
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["number", "confidence", "uncertain", "digits", "separators", "ignored",
                          "lines"]
    assert body["number"] == "111" and body["separators"] == [] and body["ignored"] == []
    # one line: the line is the whole answer, with its box around the digits
    (line,) = body["lines"]
    assert {key: value for key, value in line.items() if key != "box"} == {
        key: value for key, value in body.items() if key != "lines"}
    boxes = [digit["box"] for digit in body["digits"]]
    left, top = boxes[0]["left"], min(box["top"] for box in boxes)
    assert line["box"] == {"left": left, "top": top,
                           "width": boxes[-1]["left"] + boxes[-1]["width"] - left,
                           "height": max(box["top"] + box["height"] for box in boxes) - top}
    # three separate digits: their confidences and two boundaries the paper parts
    assert body["confidence"] == pytest.approx(np.prod([d["confidence"] for d in body["digits"]])
                                               * GAP_RIGHT ** 2)
    assert body["uncertain"] == (body["confidence"] < METADATA["confidence_threshold"])
    for digit, left in zip(body["digits"], [30, 100, 170]):
        assert list(digit) == ["digit", "confidence", "uncertain", "top", "probabilities",
                               "pixels", "box"]
        assert len(digit["top"]) == 2 and np.shape(digit["pixels"]) == (8, 8)
        box = digit["box"]
        assert abs(box["left"] - left) <= 3 and abs(box["width"] - 14) <= 4
        assert abs(box["top"] - 25) <= 3 and abs(box["height"] - 90) <= 4


def test_boxes_are_where_a_person_sees_the_digit_after_exif_orientation(client):
    upright = Image.fromarray(strokes([30, 100], width=200))
    stored = upright.rotate(90, expand=True)  # a sensor's raw frame: shown turned 90 deg CW
    exif = Image.Exif()
    exif[0x0112] = 6
    body = read(client, encode(stored, "JPEG", exif=exif.tobytes(), quality=95)).get_json()
    assert body["number"] == "11"
    first = body["digits"][0]["box"]
    assert abs(first["left"] - 30) <= 3 and abs(first["top"] - 25) <= 3
    assert abs(first["width"] - 14) <= 4 and abs(first["height"] - 90) <= 4


def test_a_dash_and_a_decimal_point_between_digits_stay_in_the_number(client):
    page = strokes([30, 130, 230], marks=[(64, 68, 10, 36),  # a hyphen at mid-height
                                          (104, 190, 11, 11)])  # a point on the baseline
    body = read(client, encode(page)).get_json()
    assert body["number"] == "1-1.1"
    assert [digit["digit"] for digit in body["digits"]] == [1, 1, 1]  # the digits only
    assert [(mark["symbol"], mark["after"]) for mark in body["separators"]] == [("-", 1),
                                                                             (".", 2)]
    assert abs(body["separators"][0]["box"]["left"] - 68) <= 3 and body["ignored"] == []


@pytest.mark.parametrize("lefts, number", [([130, 230], "-11"), ([130], "-1")])
def test_a_minus_sign_before_the_first_digit_stays_in_the_number(client, lefts, number):
    """A dash at mid-height just before the first digit: the number is negative, as written
    (a single digit too); its box is the dash's, after no digit."""
    page = strokes(lefts, width=360, marks=[(64, 80, 10, 36)])  # ends 14 pixels before it
    body = read(client, encode(page)).get_json()
    assert body["number"] == number
    assert [digit["digit"] for digit in body["digits"]] == [1] * len(lefts)
    assert [(mark["symbol"], mark["after"]) for mark in body["separators"]] == [("-", 0)]
    assert abs(body["separators"][0]["box"]["left"] - 80) <= 3 and body["ignored"] == []


def test_a_dash_far_before_the_first_digit_is_no_sign(client):
    """A dash a digit's height (90 pixels) before the first digit, further than a gap that is
    not a space, reads as a stray stroke, not a sign."""
    page = strokes([200, 300], width=400, marks=[(64, 74, 10, 36)])
    body = read(client, encode(page)).get_json()
    assert body["number"] == "11" and body["separators"] == []


def test_a_minus_sign_on_a_later_line_follows_the_line_break(client):
    page = np.vstack([strokes([130, 230], width=360),
                      strokes([130, 230], width=360, marks=[(64, 80, 10, 36)])])
    body = read(client, encode(page)).get_json()
    assert [line["number"] for line in body["lines"]] == ["11", "-11"]
    assert body["number"] == "11\n-11"
    assert [(mark["symbol"], mark["after"]) for mark in body["separators"]] == [("\n", 2),
                                                                             ("-", 2)]


def test_a_decimal_comma_on_the_baseline_reads_as_a_point(client):
    page = strokes([30, 130], marks=[(100, 92, 24, 9)])  # from the baseline down, narrow
    assert read(client, encode(page)).get_json()["number"] == "1.1"


@pytest.mark.parametrize("mark, where", [
    ((30, 190, 11, 11), "a dot up at the digits' tops"),
    ((104, 300, 11, 11), "a dot after the last digit"),
    ((106, 190, 5, 6), "a speck of dust on the baseline"),
])
def test_marks_elsewhere_are_left_out_and_listed(client, mark, where):
    body = read(client, encode(strokes([30, 130, 230], width=360, marks=[mark]))).get_json()
    assert body["number"] == "111" and body["separators"] == []
    assert len(body["ignored"]) <= 1


def test_a_space_between_digit_groups_stays_in_the_number(client):
    body = read(client, encode(strokes([30, 70, 220, 260]))).get_json()
    assert body["number"] == "11 11" and len(body["digits"]) == 4
    assert [(mark["symbol"], mark["after"]) for mark in body["separators"]] == [(" ", 2)]


def test_evenly_spaced_digits_have_no_space(client):
    assert read(client, encode(strokes([30, 130, 230, 330]))).get_json()["number"] == "1111"


def test_several_lines_are_read_top_to_bottom_each_with_its_box(client):
    page = np.vstack([strokes(lefts, width=250)
                      for lefts in ([30, 100, 170], [30, 100], [100, 170])])
    body = read(client, encode(page)).get_json()
    assert [line["number"] for line in body["lines"]] == ["111", "11", "11"]
    tops = [line["box"]["top"] for line in body["lines"]]
    assert all(abs(top - expected) <= 3 for top, expected in zip(tops, [25, 165, 305]))
    assert body["lines"][2]["box"]["left"] == pytest.approx(100, abs=3)
    # the whole image: the lines a line break apart, every digit in reading order
    assert body["number"] == "111\n11\n11" and len(body["digits"]) == 7
    assert [(mark["symbol"], mark["after"]) for mark in body["separators"]] == [("\n", 3),
                                                                             ("\n", 5)]
    assert body["confidence"] == pytest.approx(np.prod([line["confidence"]
                                                        for line in body["lines"]]))
    assert body["lines"][1]["digits"] == body["digits"][3:5]


def test_lines_too_close_for_the_small_copy_are_still_two_lines(client):
    """Two lines 19 pixels apart across a page 2400 pixels wide: on the 64-pixel copy where
    lines are found they run together; the line's region, read again finer, shows the gap,
    and the two are read as two lines (they were refused as several lines)."""
    page = np.vstack([strokes([30, 100, 170], width=2400)[:130],
                      strokes([30, 100], width=2400)[6:]])
    body = read(client, encode(page)).get_json()
    assert [line["number"] for line in body["lines"]] == ["111", "11"]


def test_a_thin_digit_the_small_copy_lost_at_a_line_s_end_is_read(client):
    """Two bold 0s and a 1 in a thin pen after them, in a wide photo-sized page: the 1 is too
    faint to show on the 64-pixel copy, but beside the line at its own resolution it is a
    digit-sized blob, and read (it was left out: "00")."""
    image = Image.new("L", (1600, 500), 245)
    draw = ImageDraw.Draw(image)
    for left in (200, 420):
        draw.ellipse([left, 150, left + 110, 320], outline=20, width=14)
    draw.line([(600, 150), (600, 320)], fill=20, width=4)
    assert read(client, encode(np.asarray(image))).get_json()["number"] == "001"


def test_a_page_written_small_is_read_line_by_line(client):
    """Five lines of digits 36 pixels tall in an 800x600 photo: on the 64-pixel copy the 1s
    are too faint to show and the lines' regions lost them ("00 0 0 0 00"); located again
    on a finer copy, every digit of every line is read."""
    body = read(client, small_writing_page()).get_json()
    assert [line["number"] for line in body["lines"]] == ["010", "101", "010", "101", "010"]


def test_a_line_s_marks_stay_in_that_line(client):
    page = np.vstack([strokes([30, 130, 230], marks=[(104, 190, 11, 11)]),
                      strokes([30, 130], width=310)])
    body = read(client, encode(page)).get_json()
    assert [line["number"] for line in body["lines"]] == ["11.1", "11"]
    assert body["number"] == "11.1\n11"
    assert [(mark["symbol"], mark["after"]) for mark in body["separators"]] == [(".", 2),
                                                                             ("\n", 3)]


def test_predict_refuses_several_lines_as_several_digits(client):
    page = np.vstack([strokes([30, 100])] * 2)
    problem = post_image(client, encode(page)).get_json()
    assert problem["type"].endswith("several-digits") and "holds 4 digits" in problem["detail"]


def test_a_digit_broken_across_its_middle_is_one_digit_not_two_lines(client):
    """A 0 whose sides are too faint to show: its top and bottom halves, one over the other,
    are one digit (and so is a column of single digits: one column of ink)."""
    page = np.full((200, 120), 250, dtype=np.uint8)
    page[20:30, 30:90] = page[170:180, 30:90] = 20  # the arcs
    page[20:80, 30:40] = page[20:80, 80:90] = page[120:180, 30:40] = page[120:180, 80:90] = 20
    body = read(client, encode(page)).get_json()
    assert len(body["lines"]) == 1 and len(body["digits"]) == 1


def test_more_digits_than_max_digits_is_422():
    client = create_app({"TESTING": True, "MAX_DIGITS": 3}).test_client()
    assert read(client, encode(strokes([30, 90, 150]))).status_code == 200
    response = read(client, encode(strokes([30, 90, 150, 210])))
    assert response.status_code == 422
    assert response.get_json()["type"].endswith("too-many-digits")
    assert "more than 3 digits" in response.get_json()["detail"]
    # the limit counts the whole image, every line of it
    response = read(client, encode(np.vstack([strokes([30, 90])] * 2)))
    assert response.status_code == 422 and "more than 3 digits" in response.get_json()["detail"]


def test_predict_refuses_a_number_and_says_where_to_send_it(client):
    response = post_image(client, encode(strokes([30, 100, 170])))
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["type"].endswith("several-digits")
    assert "holds 3 digits" in problem["detail"] and "POST /read" in problem["detail"]


@pytest.mark.parametrize("kind", KINDS)
def test_read_gives_predicts_digit_on_single_digit_uploads(client, kind):
    images, _ = handwriting("dev", per_kind=12)
    for index, image in enumerate(images):
        data = render_upload(image, kind, index)
        predicted = post_image(client, data)
        read_back = read(client, data)
        assert predicted.status_code == read_back.status_code
        if predicted.status_code == 200:
            digits = read_back.get_json()["digits"]
            assert len(digits) == 1
            assert digits[0]["probabilities"] == predicted.get_json()["probabilities"]


def test_read_batch_answers_each_file_and_puts_a_problem_in_place_of_a_failure(client):
    response = client.post("/read/batch", data={"images": [
        (io.BytesIO(encode(strokes([30, 100]))), "a.png"),
        (io.BytesIO(b"not an image"), "b.txt"),
        (io.BytesIO(encode(strokes([30]))), "c.png")]})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["filename"] for r in results] == ["a.png", "b.txt", "c.png"]
    assert results[0]["number"] == "11" and results[2]["number"] == "1"
    assert results[1]["error"]["status"] == 415


def test_read_takes_the_upload_contract_of_predict(client):
    wrong_body = client.post("/read", data=b"{}", content_type="application/json")
    assert wrong_body.status_code == 415
    assert "POST /read takes multipart/form-data" in wrong_body.get_json()["detail"]
    assert client.post("/read", data={}).status_code == 400
    assert read(client, b"GIF89a not really").status_code == 415
    assert read(client, encode(np.full((50, 50), 250, dtype=np.uint8))).status_code == 422
    assert read(client, encode(strokes([30])), "?top_k=11").status_code == 400


def test_a_number_cut_from_touching_ink_is_less_sure_than_its_digits(client):
    """A touching pair cut in two: its confidence is its digits' times CUT_RIGHT, the share of
    such cuts that are right (a segmentation error makes a confident, wrong number otherwise);
    a digit alone keeps its own confidence."""
    images, _ = handwriting("dev")
    for start in range(0, 40, 2):
        data = render_number(images[start:start + 2], "scan", "touching", start)
        body = read(client, data).get_json()
        if len(body["digits"]) == 2:
            break
    product = np.prod([digit["confidence"] for digit in body["digits"]])
    assert body["confidence"] == pytest.approx(product * CUT_RIGHT)
    single = read(client, encode(strokes([30]))).get_json()
    assert single["confidence"] == pytest.approx(single["digits"][0]["confidence"])
