"""The browser page (GET /) in a real headless Chromium against the real gunicorn service."""

import base64
import os
import shutil

import pytest

from conftest import NUMBER_IMAGES, TEST_IMAGES

pytestmark = pytest.mark.server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium's own background traffic is refused by a closed network; these keep it quiet.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: install Debian's chromium package")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server_url):
    context = browser.new_context(viewport={"width": 800, "height": 900}, has_touch=True)
    page = context.new_page()
    page.requests_seen = []
    page.on("request", lambda request: page.requests_seen.append(request.url))
    page.goto(f"{server_url}/")
    yield page
    context.close()


def draw(page, strokes):
    """Draw strokes (lists of (x, y) in canvas pixels: 280x280, 640x200 for a number) with the
    mouse."""
    box = page.locator("#canvas").bounding_box()
    scale = box["width"] / page.evaluate("() => document.getElementById('canvas').width")
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=4)
        page.mouse.up()


def circle(cx, cy, rx, ry, points=40):
    import math
    angles = [2 * math.pi * i / points for i in range(points + 1)]
    return [(cx + rx * math.sin(a), cy - ry * math.cos(a)) for a in angles]


def expect_digit(page, digit):
    from playwright.sync_api import expect
    expect(page.locator("#digit")).to_have_text(str(digit), timeout=10_000)


def test_the_page_has_its_hooks_and_labels(page):
    for hook in ("#canvas", "#file", "#clear", "#digit", "#probabilities", "#pixels"):
        assert page.locator(hook).count() == 1, hook
    assert page.locator("#canvas").get_attribute("aria-label")
    assert page.locator("#clear").is_enabled()
    assert page.locator("label[for=file]").count() == 1
    assert page.locator("#error").is_hidden()


def test_the_page_loads_nothing_from_elsewhere(page, server_url):
    page.wait_for_load_state("networkidle")
    assert page.requests_seen and all(url.startswith(server_url) for url in page.requests_seen)


@pytest.mark.parametrize("digit, strokes", [
    (0, [circle(140, 140, 70, 105)]),
    (1, [[(140, 30), (140, 250)]]),
    (7, [[(60, 40), (220, 40), (120, 250)]]),
], ids=["zero", "one", "seven"])
def test_drawing_a_digit_shows_what_the_model_read(page, digit, strokes):
    draw(page, strokes)
    expect_digit(page, digit)
    assert page.locator("#probabilities li").count() == 10
    assert page.locator("#pixels div").count() == 64


def test_a_touch_stroke_draws_too(page):
    session = page.context.new_cdp_session(page)
    box = page.locator("#canvas").bounding_box()
    scale = box["width"] / 280
    points = [(box["x"] + 140 * scale, box["y"] + (30 + 11 * i) * scale) for i in range(21)]
    events = [("touchStart", 0)] + [("touchMove", i) for i in range(1, 21)] + [("touchEnd", 20)]
    for kind, index in events:
        x, y = points[index]
        session.send("Input.dispatchTouchEvent", {
            "type": kind, "touchPoints": [] if kind == "touchEnd" else [{"x": x, "y": y}]})
    expect_digit(page, 1)


def test_clear_empties_the_canvas_and_the_answer(page):
    draw(page, [[(140, 30), (140, 250)]])
    expect_digit(page, 1)
    page.click("#clear")
    expect_digit(page, "–")
    blank = page.evaluate("""() => {
        const c = document.getElementById('canvas');
        return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.every(v => v === 0);
    }""")
    assert blank


@pytest.mark.parametrize("path", TEST_IMAGES, ids=[p.name for p in TEST_IMAGES])
def test_uploading_a_test_image_shows_its_digit(page, path):
    page.set_input_files("#file", str(path))
    expect_digit(page, int(path.name[0]))


def test_dropping_an_image_file_predicts_it(page):
    path = next(p for p in TEST_IMAGES if p.suffix == ".png")
    transfer = page.evaluate_handle("""(b64) => {
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], 'dropped.png', {type: 'image/png'}));
        return transfer;
    }""", base64.b64encode(path.read_bytes()).decode())
    page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})
    expect_digit(page, int(path.name[0]))


def test_an_api_error_is_shown_to_the_person(page, tmp_path):
    from playwright.sync_api import expect
    notes = tmp_path / "notes.txt"
    notes.write_text("this is not an image")
    page.set_input_files("#file", str(notes))
    expect(page.locator("#error")).to_be_visible(timeout=10_000)
    expect(page.locator("#error")).to_contain_text("is not an image")


EIGHT = next(p for p in TEST_IMAGES if p.name.startswith("8_"))
# a "1" drawn as twelve short strokes, one under the other
QUICK_STROKES = [[(140, 30 + 18 * i), (140, 44 + 18 * i)] for i in range(12)]


def predictions_in_flight(page):
    """Follow the page's /predict requests; returns a dict whose "most" is the largest number
    that were under way at once so far, and "sent" how many were sent."""
    count = {"now": 0, "most": 0, "sent": 0}

    def started(request):
        if "/predict" in request.url:
            count["now"] += 1
            count["sent"] += 1
            count["most"] = max(count["most"], count["now"])

    def ended(request):
        if "/predict" in request.url:
            count["now"] -= 1

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)
    return count


def test_quick_strokes_then_an_upload_end_on_the_uploads_answer(page):
    """As a person does it, at the real service's speed: never two requests for the drawing
    at once, and the upload's answer is the one that stays."""
    requests = predictions_in_flight(page)
    draw(page, QUICK_STROKES)
    assert requests["most"] == 1
    page.set_input_files("#file", str(EIGHT))
    expect_digit(page, 8)
    page.wait_for_load_state("networkidle")  # every late answer to a stroke has come back
    expect_digit(page, 8)


def test_a_late_answer_to_a_stroke_never_replaces_the_uploads(page):
    """The server answers the stroke after the upload: held back here until the upload's
    answer is on screen, then let through."""
    held = []  # the first request (the stroke's) waits here
    page.route("**/predict?top_k=3", lambda route: held.append(route) if not held
               else route.continue_())
    # the stroke's request must be under way before the upload: a stroke whose drawing is
    # still being encoded when the file comes is never sent at all (it is already outdated)
    with page.expect_request("**/predict?top_k=3"):
        draw(page, [[(140, 30), (140, 250)]])
    page.wait_for_function("() => document.getElementById('result').classList.contains('pending')")
    page.set_input_files("#file", str(EIGHT))
    expect_digit(page, 8)
    assert len(held) == 1
    try:
        held[0].continue_()  # the page aborted it already; if it still arrives, it is ignored
    except Exception:  # noqa: BLE001 -- Playwright refuses to continue an aborted request
        pass
    page.wait_for_load_state("networkidle")
    expect_digit(page, 8)


def test_strokes_made_while_the_server_is_slow_are_sent_once_together(page):
    """While the first stroke's answer is held back, eleven more strokes send nothing; when it
    comes, only the newest drawing is asked about, and its answer is the one shown."""
    held = []
    page.route("**/predict?top_k=3", lambda route: held.append(route) if not held
               else route.continue_())
    requests = predictions_in_flight(page)
    draw(page, QUICK_STROKES)
    page.wait_for_timeout(300)  # room for requests the page should not send
    assert requests["sent"] == 1
    held[0].continue_()
    expect_digit(page, 1)
    page.wait_for_load_state("networkidle")
    assert requests["sent"] == 2


def test_an_error_leaves_no_stale_digit(page, tmp_path):
    from playwright.sync_api import expect
    draw(page, [[(140, 30), (140, 250)]])
    expect_digit(page, 1)
    notes = tmp_path / "notes.txt"
    notes.write_text("this is not an image")
    page.set_input_files("#file", str(notes))
    expect(page.locator("#error")).to_contain_text("is not an image", timeout=10_000)
    expect_digit(page, "–")
    assert page.locator("#probabilities li").count() == 0
    assert page.locator("#pixels div").count() == 0
    expect(page.locator("#sent-name")).to_contain_text("Sent: notes.txt")


def test_an_upload_is_shown_beside_its_answer_and_a_stroke_replaces_it(page):
    from playwright.sync_api import expect
    page.set_input_files("#file", str(EIGHT))
    expect_digit(page, 8)
    expect(page.locator("#sent-name")).to_have_text(f"Sent: {EIGHT.name}")
    assert page.evaluate("() => document.getElementById('preview').naturalWidth") > 0
    draw(page, [[(140, 30), (140, 250)]])
    expect_digit(page, 1)
    expect(page.locator("#sent")).to_be_hidden()


def test_a_heic_the_browser_cannot_convert_gets_the_servers_advice(page, tmp_path):
    """Chromium cannot show HEIC, so the page sends it as it is; the 415 says what to do."""
    from playwright.sync_api import expect
    photo = tmp_path / "IMG_0001.HEIC"
    photo.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200))
    page.set_input_files("#file", str(photo))
    expect(page.locator("#error")).to_contain_text("HEIC/HEIF image", timeout=10_000)
    expect(page.locator("#error")).to_contain_text("Send it as a JPEG or PNG")


def number_mode(page):
    page.check("input[name=mode][value=number]")
    assert page.evaluate("() => document.getElementById('canvas').width") == 640


def test_a_number_drawn_on_the_wide_canvas_is_read_digit_by_digit(page):
    from playwright.sync_api import expect
    number_mode(page)
    draw(page, [[(x, 30), (x, 170)] for x in (80, 240, 400)])
    expect(page.locator("#number")).to_have_text("111", timeout=10_000)
    expect(page.locator("#digits li")).to_have_count(3)
    assert page.locator("#digits li .pixels div").count() == 3 * 64
    expect(page.locator("#boxes .digit-box")).to_have_count(3)
    assert page.locator("#result").is_hidden()


@pytest.mark.parametrize("strokes, number, symbol", [
    pytest.param([[(80, 30), (80, 170)], [(160, 166), (161, 167)], [(240, 30), (240, 170)]],
                 "1.1", ".", id="a decimal point between the digits"),
    pytest.param([[(60, 100), (120, 100)], [(160, 30), (160, 170)], [(280, 30), (280, 170)]],
                 "-11", "-", id="a minus sign before them"),
])
def test_a_mark_drawn_with_the_digits_is_shown_in_the_number_and_boxed(page, strokes, number,
                                                                       symbol):
    from playwright.sync_api import expect
    number_mode(page)
    draw(page, strokes)
    expect(page.locator("#number")).to_have_text(number, timeout=10_000)
    expect(page.locator("#digits li")).to_have_count(2)
    expect(page.locator("#boxes .separator-box")).to_have_count(1)
    assert page.locator("#boxes .separator-box text").text_content() == symbol


@pytest.mark.parametrize("path", NUMBER_IMAGES, ids=[p.name for p in NUMBER_IMAGES])
def test_an_uploaded_number_is_shown_with_each_digits_box_and_value(page, path):
    from playwright.sync_api import expect
    number = path.stem.split("_")[1]
    number_mode(page)
    page.set_input_files("#file", str(path))
    expect(page.locator("#number")).to_have_text(number, timeout=10_000)
    shown = page.evaluate("() => document.getElementById('preview').naturalWidth") > 0
    if not shown:  # Chromium shows no TIFF: the digits are listed, no box can be drawn
        expect(page.locator("#sent-name")).to_contain_text("cannot show it")
        return
    expect(page.locator("#boxes .digit-box")).to_have_count(len(number))
    assert page.locator("#boxes text").all_text_contents() == list(number)
    lefts = [float(x) for x in page.locator("#boxes rect").evaluate_all(
        "rects => rects.map(r => r.getAttribute('x'))")]
    assert lefts == sorted(lefts)
    # the boxes lie over the picture, scaled with it
    image = page.locator("#preview").bounding_box()
    first = page.locator("#boxes rect").first.bounding_box()
    assert image["x"] <= first["x"] and first["x"] + first["width"] <= image["x"] + image["width"]


def test_a_page_of_several_lines_shows_each_line_s_box_and_number(page, tmp_path):
    from PIL import Image
    from playwright.sync_api import expect
    sheet = Image.new("L", (320, 300), 250)
    for top, lefts in ((25, (30, 110, 190)), (165, (30, 110))):
        for left in lefts:
            sheet.paste(20, (left, top, left + 14, top + 90))
    path = tmp_path / "sheet.png"
    sheet.save(path)
    number_mode(page)
    page.set_input_files("#file", str(path))
    expect(page.locator("#boxes .line-box")).to_have_count(2, timeout=10_000)
    assert page.locator("#boxes .line-box text").all_text_contents() == ["111", "11"]
    assert page.locator("#number").text_content() == "111\n11"
    expect(page.locator("#boxes .digit-box")).to_have_count(5)
    lines = page.locator("#boxes .line-box rect").evaluate_all(
        "rects => rects.map(r => Number(r.getAttribute('y')))")
    assert lines[0] < 25 < 165 and lines[1] < 165 and lines[1] > 25 + 90


def test_a_late_number_never_shows_after_switching_back_to_one_digit(page):
    from playwright.sync_api import expect
    held = []
    page.route("**/read?top_k=3", lambda route: held.append(route))
    number_mode(page)
    page.set_input_files("#file", str(NUMBER_IMAGES[0]))
    page.wait_for_function(
        "() => document.querySelector('#number-result').classList.contains('pending')")
    page.check("input[name=mode][value=digit]")
    page.set_input_files("#file", str(EIGHT))
    expect_digit(page, 8)
    try:
        held[0].continue_()
    except Exception:  # noqa: BLE001 -- the page aborted it
        pass
    page.wait_for_load_state("networkidle")
    expect_digit(page, 8)
    assert page.locator("#number-result").is_hidden()
    expect(page.locator("#number")).to_have_text("–")


def test_a_number_sent_as_one_digit_gets_the_advice_to_read_it_as_a_number(page):
    from playwright.sync_api import expect
    page.set_input_files("#file", str(NUMBER_IMAGES[0]))
    digits = len(NUMBER_IMAGES[0].stem.split("_")[1])
    expect(page.locator("#error")).to_have_text(
        f"The image holds {digits} digits, not one. Choose “a number” above to read them all.",
        timeout=10_000)


def test_the_layout_fits_a_phone(browser, server_url):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True,
                                  has_touch=True)
    phone = context.new_page()
    phone.goto(f"{server_url}/")
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    canvas = phone.locator("#canvas").bounding_box()
    context.close()
    assert width <= 375
    assert canvas["width"] <= 375


def test_screenshot(page, request):
    """With --screenshot PATH, save a picture of the page after drawing (for the README)."""
    target = request.config.getoption("--screenshot")
    if not target:
        pytest.skip("no --screenshot PATH given")
    draw(page, [[(70, 60), (210, 60), (120, 250)]])
    expect_digit(page, 7)
    page.screenshot(path=target, full_page=True)


def test_with_api_keys_the_page_asks_for_a_key_and_uses_it(browser, tmp_path):
    from playwright.sync_api import expect

    from conftest import create_key, gunicorn_serving
    from service import create_app
    database = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    _, key = create_key(create_app({"API_KEYS": True, "DATABASE_URL": database}), 5)
    path = TEST_IMAGES[0]
    with gunicorn_serving({"DIGITS_API_KEYS": "true", "DIGITS_DATABASE_URL": database}) as url:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{url}/")
        expect(page.locator("#key-form")).to_be_hidden()
        page.set_input_files("#file", str(path))
        expect(page.locator("#error")).to_contain_text("needs an API key", timeout=10_000)
        expect(page.locator("#key-form")).to_be_visible()
        page.fill("#api-key", key)
        page.click("#key-form button")
        expect_digit(page, int(path.name[0]))  # the upload is sent again, with the key
        expect(page.locator("#error")).to_be_hidden()
        expect(page.locator("#key-form")).to_be_hidden()
        page.set_input_files("#file", str(TEST_IMAGES[1]))  # the key is kept for the next one
        expect_digit(page, int(TEST_IMAGES[1].name[0]))
        context.close()
