"""The benchmark's parts (it times nothing here): the floors answer like the service does, and
the multipart body it sends is a valid upload, and the model comparison lets two models take
turns and judges each."""

import io

import pytest
from PIL import Image

from bench import floors, model_cost, profile, reckoning, run
from bench.memory import encode
from conftest import READER, narrow_touching_pair
from digits.core.decoding import Limits, decoding_costs
from digits.core.reading import Reader
from service import create_app


@pytest.mark.parametrize("name", ["flask_floor", "decode_floor"])
def test_the_floors_read_the_upload_and_answer_fixed_json(name):
    client = getattr(floors, name)().test_client()
    filename, data = run.payloads()[0][1:]
    response = client.post("/predict", data=run.multipart(filename, data),
                           content_type=f"multipart/form-data; boundary={run.BOUNDARY}")
    assert response.status_code == 200
    assert response.get_json() == floors.ANSWER


def test_the_decode_floor_really_decodes():
    client = floors.decode_floor().test_client()
    response = client.post("/predict", data=run.multipart("x.png", b"not an image"),
                           content_type=f"multipart/form-data; boundary={run.BOUNDARY}")
    assert response.status_code == 500


@pytest.mark.parametrize("index", [0, 1], ids=["canvas", "photo"])
def test_the_benchmark_payloads_are_read_by_the_service(index):
    client = create_app().test_client()
    _, filename, data = run.payloads()[index]
    response = client.post("/predict", data=run.multipart(filename, data),
                           content_type=f"multipart/form-data; boundary={run.BOUNDARY}")
    assert response.status_code == 200
    assert 0 <= response.get_json()["digit"] <= 9


def test_the_profile_reads_predicts_payloads_as_predict_does():
    """A touching pair narrower than tall, alone: POST /read's path cuts it in two, POST
    /predict's takes it for one digit unjudged; the profile reads a payload on the path of its
    own endpoint."""
    pair = narrow_touching_pair()
    assert len(profile.end_to_end(pair, READER, 1)[1]) == 2
    assert len(profile.end_to_end(pair, READER, 1, one_digit=True)[1]) == 1
    read_for_one = dict(profile.profile(pair, READER, 1, one_digit=True))
    assert list(read_for_one) == [name for name, _ in READER.stages()]


def test_the_verdicts_compare_each_figure_with_its_target():
    def figures(rps, p99, errors=0):
        return {"rps": rps, "p50_ms": p99 / 2, "p99_ms": p99, "errors": errors}
    png, jpg = "canvas PNG 280x280", "photo JPEG 800x600"
    results = {("service", png): figures(750, 19.0), ("decode floor", png): figures(1000, 9),
               ("plain resize", png): figures(800, 10),
               ("service", jpg): figures(500, 35.0, errors=2),
               ("decode floor", jpg): figures(500, 16), ("plain resize", jpg): figures(300, 20)}
    memory = {"service": ((300.0, 140.0), (320.0, 160.0), 0.6)}
    met = {text.split(" (")[0]: ok
           for text, ok in run.verdicts(results, memory, [png, jpg], train=59.0)}
    assert met == {
        f"{png}: throughput 0.75x the decode floor": True,
        f"{png}: throughput 0.94x the plain resize": True,
        f"{png}: p99 19.0 ms": True, f"{png}: 0 errors": True,
        f"{jpg}: throughput 1.00x the decode floor": False,
        f"{jpg}: p99 35.0 ms": False, f"{jpg}: 2 errors": False,
        "gunicorn tree PSS at idle, estimator loaded, 140.0 MB": True,
        "cold start 0.60 s": False, "python train.py 59.0 s": True,
        "python train.py, the segmentation model included, 59.0 s": True}
    slower = {text.split(" (")[0]: ok for text, ok in run.verdicts(results, memory, [png, jpg],
                                                                    train=179.0)}
    assert slower["python train.py 179.0 s"] is False
    assert slower["python train.py, the segmentation model included, 179.0 s"] is True


def test_the_plain_resize_reference_answers_from_the_same_estimator():
    client = floors.plain_resize().test_client()
    filename, data = run.payloads()[0][1:]
    response = client.post("/predict", data=run.multipart(filename, data),
                           content_type=f"multipart/form-data; boundary={run.BOUNDARY}")
    assert response.status_code == 200
    assert 0 <= response.get_json()["digit"] <= 9


class _Recording:
    """A real estimator that notes, in `calls`, its name each time it is asked."""

    def __init__(self, name, estimator, calls):
        self.name, self.estimator, self.calls = name, estimator, calls
        self.classes_ = estimator.classes_

    def predict_proba(self, rows):
        self.calls.append(self.name)
        return self.estimator.predict_proba(rows)


def test_the_model_comparison_lets_the_models_take_turns_first():
    calls = []
    models = {name: Reader(_Recording(name, READER.estimator, calls), 0.5, READER.segmenter)
              for name in ("before", "after")}
    upload = run.payloads()[0]
    results = model_cost.compare([(upload[0], upload[2])], models, rounds=2, repeat=1)
    turns = [name for index, name in enumerate(calls) if index == 0 or calls[index - 1] != name]
    assert turns == ["before", "after", "before"]  # round 2 starts with the model that ended 1
    for figures in results[upload[0]].values():
        assert len(figures["predict"]) == len(figures["read"]) == 2 and figures["digits"] == 1


def test_the_model_comparison_pairs_the_rounds_and_judges_each_model_by_the_target():
    results = {"number": {"before": {"predict": [0.30, 0.34], "read": [6.0, 7.0], "digits": 6},
                          "after": {"predict": [0.70, 0.74], "read": [6.5, 7.3], "digits": 6}}}
    lines, verdicts = model_cost.report(results, "before", "after")
    assert "+0.400ms" in lines[1] and "+0.400ms" in lines[2]  # the median of paired differences
    assert [met for _, met in verdicts] == [True, False]
    assert verdicts[1][0].startswith("after, number: predict_proba on its 6 digit(s) 0.720 ms")


def test_the_worst_case_benchmark_counts_the_work_of_a_read():
    from bench import worst
    made = worst.candidates(["a page of 10 lines of 2",
                             "5 lines of 4 narrow blobs, each maybe two digits"])
    # 20 separated strokes: each fitted once for the answer, nothing to judge
    assert worst.work_of(READER, made["a page of 10 lines of 2"]) == {"fits": 20, "judged": 0}
    # 20 narrow blobs, each judged whole, some tried in two: every piece judged is fitted
    # once, and the digits answered are among them (strokes drawn without faded edges: their
    # core is their ink, and regrowth adds nothing), so nothing is fitted again
    narrow = worst.work_of(READER, made["5 lines of 4 narrow blobs, each maybe two digits"])
    assert narrow["judged"] > 20 and narrow["fits"] == narrow["judged"]


def test_the_worst_case_uploads_are_answered_or_refused_as_the_service_would():
    from bench import worst
    names = ["dense dots (PNG)", "a scribble 20 digits wide", "20 touching handwritten digits",
             "a page of 12 lines", "a page of 10 lines of 2", "dust over a 1600x1600 page"]
    answers = {name: worst.cost_ms(READER, data, 1)[1]
               for name, data in worst.candidates(names).items()}
    assert set(answers) == set(names)
    assert answers["a page of 12 lines"] == "TooManyDigits"  # 96 digits
    assert answers["a page of 10 lines of 2"] == repr("\n".join(["11"] * 10))
    assert answers["dust over a 1600x1600 page"] == "NoDigitFound"
    # read (its count may be off: 20 touching digits on a reduced page) or refused as too many
    touching = answers["20 touching handwritten digits"]
    assert touching.strip("'").isdigit() or touching == "TooManyDigits"


@pytest.mark.parametrize("name", ["WebP lossy RGB", "GIF P"])
def test_the_densest_upload_is_the_most_grain_the_limits_and_the_upload_size_take(name):
    from bench import worst
    limits = Limits(pixel_data=4_000_000)  # a small budget: a small file to build
    data = worst.densest(name, limits)
    memory, work = decoding_costs(Image.open(io.BytesIO(data)), data)
    assert work <= limits.pixel_data and memory <= limits.decoded_bytes
    assert work > 0.85 * limits.pixel_data  # shrunk in steps of 3 % from a sample's estimate
    assert len(worst.densest(name, limits, upload_bytes=len(data) // 2)) <= len(data) // 2


def test_the_reckoning_measures_the_decoding_in_a_process_of_its_own():
    """The decode's own peak is measured, not the peak this process (which built the files)
    hands its children: with getrusage's ru_maxrss every kind measured 0 bytes a pixel."""
    assert reckoning.decoding_peak(encode("L", "PNG", (3000, 3000), {})) > 6_000_000  # 9 MB
