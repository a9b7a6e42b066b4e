"""The Model card tab under AppTest: the figures of the metrics file, and what the page says
when the model's metrics or the model itself cannot be used."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from PIL import ImageColor
from streamlit.testing.v1 import AppTest

import digit_model
import tabs.draw
import tabs.model_card
from devtools import REPO_ROOT
from tests.support.colours import contrast, theme_background
from tests.support.page_app import RUN_TIMEOUT, answer, chart_rows, drawing, open_tab


def shown_values(table) -> pd.DataFrame:
    """A table's cells as the page shows them (its formatted text), not the numbers behind."""
    display = table.proto.arrow_data.styler.display_values
    return pa.ipc.open_stream(display).read_all().to_pandas()


def test_model_card_shows_the_figures_from_the_metrics_file(app, canvas):
    metrics = digit_model.load_metrics()
    assert metrics is not None, "the committed model has no metrics file beside it"
    app.run()
    assert len(app.tabs[2].metric) == 0  # built only once the tab is opened
    open_tab(app, "Model card")

    card = app.tabs[2]
    # In words first: every unseen source's digits and letters counted together.
    (in_short,) = [text.value for text in card.markdown if text.value.startswith("**In short")]
    sources = metrics.unseen_sources.values()
    digits = sum(source.samples for source in sources)
    read = sum(source.accuracy * source.samples for source in sources) / digits
    assert f"reads {read:.1%} of the digits written by people kept out of its training" in in_short
    letters = sum(source.letters for source in sources)
    flagged = sum((source.letters_flagged or 0) * source.letters for source in sources) / letters
    assert f'says "not a digit" to {flagged:.1%} of handwritten letters' in in_short
    figures = {metric.label: metric.value for metric in card.metric}
    assert figures["MNIST test accuracy"] == f"{metrics.test_accuracy:.2%}"
    assert figures["Parameters"] == f"{metrics.parameters:,}"
    assert figures["File size"] == f"{metrics.file_size_bytes / 1e6:.2f} MB"
    (canvas_style,) = [metric for metric in card.metric if metric.label == "Canvas-style accuracy"]
    assert canvas_style.value == f"{metrics.canvas.accuracy:.2%}"
    assert f"{metrics.canvas.samples:,} drawings." in canvas_style.proto.help
    flagged = f"{metrics.canvas.digits_flagged:.1%} of them were called not a digit."
    assert flagged in canvas_style.proto.help
    layers = card.dataframe[0]
    assert list(layers.value["Layer"]) == [layer.layer for layer in metrics.architecture]

    card_charts = list(card.get("vega_lite_chart"))
    per_digit, confusion = (chart_rows(chart) for chart in card_charts[:2])
    accuracy_curve, loss_curve = (chart_rows(chart) for chart in card_charts[-2:])
    assert [bar["accuracy"] for bar in per_digit] == metrics.per_digit_accuracy
    # Whole bars from zero: the share misread, which differs from digit to digit.
    assert [bar["misread"] for bar in per_digit] == [1 - a for a in metrics.per_digit_accuracy]
    per_digit_spec = json.loads(card_charts[0].proto.spec)
    assert per_digit_spec["encoding"]["y"]["scale"]["zero"] is True
    # Each bar is labelled with what it shows, and the tallest has room above it for its label.
    (labels,) = [layer for layer in per_digit_spec["layer"] if layer["mark"]["type"] == "text"]
    assert labels["encoding"]["text"]["field"] == "misread"
    tallest = max(bar["misread"] for bar in per_digit)
    assert per_digit_spec["encoding"]["y"]["scale"]["domainMax"] > tallest
    # Loss on a linear scale fitted to it, where its fall shows.
    loss_scale = json.loads(card_charts[-1].proto.spec)["encoding"]["y"]["scale"]
    assert loss_scale.get("type", "linear") == "linear" and loss_scale["zero"] is False
    cells = {(cell["true"], cell["predicted"]): cell["count"] for cell in confusion}
    assert cells == {
        (str(true), str(predicted)): count
        for true, row in enumerate(metrics.confusion_matrix)
        for predicted, count in enumerate(row)
    }
    training = [point["accuracy"] for point in accuracy_curve if point["split"] == "training"]
    assert training == metrics.history["accuracy"]
    validation = [point["loss"] for point in loss_curve if point["split"] == "validation"]
    assert validation == metrics.history["val_loss"]


def chart_label_colours(card) -> list[str]:
    """The colour of each layer of values the Model card's charts write beside their bars and
    points, one per layer."""
    return [
        layer["mark"]["color"]
        for chart in card.get("vega_lite_chart")
        for layer in json.loads(chart.proto.spec).get("layer", [])
        if isinstance(layer["mark"], dict)
        and layer["mark"]["type"] == "text"
        and isinstance(layer["mark"].get("color"), str)
    ]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_charts_read_on_the_theme_the_browser_shows(app, canvas, theme):
    """Vega draws what it is given on either theme's background: the values beside the bars
    and points are given the colour that reads there (WCAG's 4.5:1 for small text), and the
    reliability points, drawn a little see-through, stand out from it (3:1 for a chart's
    marks)."""
    app.context = {"theme": theme}
    card = open_tab(app.run(), "Model card").tabs[2]
    background = theme_background(theme)

    colours = chart_label_colours(card)
    assert len(colours) == 2  # the misread bars' shares and the reliability points' counts
    for colour in colours:
        assert contrast(np.array(ImageColor.getrgb(colour), float), background) >= 4.5
    (points,) = [
        layer["mark"]
        for chart in card.get("vega_lite_chart")
        for layer in json.loads(chart.proto.spec).get("layer", [])
        if isinstance(layer["mark"], dict) and layer["mark"]["type"] == "circle"
    ]
    colour = np.array(ImageColor.getrgb(points["color"]), float)
    shown = points["opacity"] * colour + (1 - points["opacity"]) * background
    assert contrast(shown, background) >= 3


def test_the_model_cards_summary_says_what_an_older_metrics_file_holds():
    metrics = digit_model.load_metrics()
    pen_only = dataclasses.replace(
        metrics, unseen_sources=None, unseen_calibration=None, leave_one_site_out=None
    )
    said = tabs.model_card.plain_summary(pen_only)
    assert said.startswith(
        f"The model reads {metrics.pen.accuracy:.1%} of the digits written by people kept out "
        f"of its training correctly ({metrics.pen.samples:,} digits)."
    )
    assert "tuned" not in said and "pen site" not in said

    mnist_only = dataclasses.replace(pen_only, pen=None)
    said = tabs.model_card.plain_summary(mnist_only)
    assert said.startswith(
        f"The model reads {metrics.test_accuracy:.1%} of the {metrics.test_samples:,} digits "
        "it was tested on correctly."
    )
    assert '"not a digit"' not in said

    never_refused = dataclasses.replace(metrics.pen, digits_flagged=0.0)
    said = tabs.model_card.plain_summary(dataclasses.replace(pen_only, pen=never_refused))
    assert 'It calls none of the real digits "not a digit".' in said


def test_model_card_describes_the_model_loaded_not_one_written_over_it(
    canvas, tmp_path, monkeypatch
):
    model_file = tmp_path / "model.keras"
    shutil.copy(digit_model.DEFAULT_PATH, model_file)
    metrics_file = digit_model.metrics_path(model_file)
    shutil.copy(digit_model.metrics_path(digit_model.DEFAULT_PATH), metrics_file)
    monkeypatch.setenv(digit_model.MODEL_PATH_VARIABLE, str(model_file))
    app = AppTest.from_file(str(REPO_ROOT / "webapp.py"), default_timeout=RUN_TIMEOUT)
    app.run()  # the page loads the model, and keeps it until the server restarts
    figures = json.loads(metrics_file.read_text())
    model_file.write_bytes(model_file.read_bytes() + b"retrained")
    metrics_file.write_text(json.dumps(figures | {"test_accuracy": 0.5}))
    open_tab(app, "Model card")

    assert not app.exception
    shown = {metric.label: metric.value for metric in app.tabs[2].metric}
    assert shown["MNIST test accuracy"] == f"{figures['test_accuracy']:.2%}"


def test_model_card_shows_pen_handwriting_and_calibration_when_measured(
    tmp_path, monkeypatch, canvas
):
    metrics = digit_model.load_metrics().to_dict()
    bins = [
        {"low": 0.6, "high": 0.8, "confidence": 0.71, "accuracy": 0.64, "samples": 40},
        {"low": 0.8, "high": 1.0, "confidence": 0.97, "accuracy": 0.98, "samples": 960},
    ]
    metrics["pen"].update(
        accuracy=0.9512,
        samples=4000,
        writers=120,
        letters_flagged=0.873,
        letters=2500,
        digits_flagged=0.011,
        calibration={"ece": 0.0123, "samples": 4000, "bins": bins},
        by_site={"site a": 0.97},
        letters_by_site={"site a": 0.912},
    )
    metrics["unseen_calibration"] = {"ece": 0.0123, "samples": 4000, "bins": bins}
    metrics["unseen_sources"]["UNIPEN apa"]["accuracy"] = 0.9612
    del metrics["unseen_sources"]["CVL valid"]["confusion_matrix"]  # as metrics before it had
    confusion = np.diag([50] * 10)
    confusion[0, [4, 9]] = 20, 9
    confusion[1, 7] = 11
    left_out = {
        **metrics["unseen_sources"]["UNIPEN apa"],
        "accuracy": 0.9377,
        "writers": 4,
        "confusion_matrix": confusion.tolist(),
        "letters_read_as": {"a": [3, 0, 12] + [0] * 7, "y": [0] * 4 + [9] + [0] * 5},
    }
    tos = {**metrics["unseen_sources"]["UNIPEN tos"], "letters_read_as": {"a": [0, 0, 2] + [0] * 7}}
    coarse = {**metrics["unseen_sources"]["CVL valid"], "accuracy": 0.9471}
    metrics["scanned"] = {"28 px": metrics["unseen_sources"]["CVL valid"], "16 px": coarse}
    blocky = {**metrics["unseen_sources"]["UNIPEN tos"], "accuracy": 0.9234}
    metrics["coarse_scans"] = {"UNIPEN tos, 16x16": blocky}
    quick = {"epochs": 4, "mnist_digits": 15000, "sites": {"uqb": left_out, "tos": tos}}
    full_size = {
        "epochs": 12,
        "mnist_digits": 60000,
        "sites": {"uqb": {**left_out, "accuracy": 0.9833}},
    }
    metrics["leave_one_site_out"] = [quick, full_size]
    model_path = tmp_path / "model.keras"
    shutil.copy(digit_model.DEFAULT_PATH, model_path)
    digit_model.metrics_path(model_path).write_text(json.dumps(metrics))
    monkeypatch.setenv(digit_model.MODEL_PATH_VARIABLE, str(model_path))
    app = AppTest.from_file(str(REPO_ROOT / "webapp.py"), default_timeout=RUN_TIMEOUT).run()
    open_tab(app, "Model card")

    assert not app.exception
    card = app.tabs[2]
    figures = {metric.label: metric.value for metric in card.metric}
    assert figures["Pen digits, known sites"] == "95.12%"
    assert figures["Their letters flagged"] == "87.30%"
    assert figures["Calibration error"] == "1.23%"
    (in_short,) = [text.value for text in card.markdown if text.value.startswith("**In short")]
    assert "When it is about 97% sure, it is right 98% of the time (960 such answers)." in in_short
    # The sites left out by the largest models, those trained as the model is.
    assert in_short.endswith("of the digits of the site it never saw (1 site, 692 digits).")
    assert "it read 98.3%" in in_short
    _, unseen, coarse_scans, scanned, sites, sites_full_size, read_right = card.dataframe
    # The figures first, the words after, so that a phone shows the figures; digits alone
    # (scans) have no letters' columns; short headings, explained on hover, fit the page.
    assert list(unseen.value.columns) == [
        "Source", "Writers", "Digits", "Read right", "Taken for no digit", "Letters flagged",
        "Commonest misreads", "Letters taken for digits",
    ]  # fmt: skip
    assert "Letters flagged" not in scanned.value.columns
    assert tabs.model_card.HEADINGS_SAID in [caption.value for caption in card.caption]
    headings = json.loads(unseen.proto.columns)
    assert headings["Letters taken for digits"]["label"] == "Let through"
    assert "letter → digit" in headings["Letters taken for digits"]["help"]
    scans = dict(zip(scanned.value["Scanned at"], scanned.value["Read right"]))
    assert scans == {"28 px": metrics["scanned"]["28 px"]["accuracy"], "16 px": 0.9471}
    sources = dict(zip(unseen.value["Source"], unseen.value["Read right"]))
    assert set(sources) == set(metrics["unseen_sources"]) and sources["UNIPEN apa"] == 0.9612
    blocky_scans = dict(zip(coarse_scans.value["Scanned into"], coarse_scans.value["Read right"]))
    assert blocky_scans == {"UNIPEN tos, 16x16": 0.9234}
    # The sources of the table just above: their writers and digits are not said again.
    assert {"Writers", "Digits"}.isdisjoint(coarse_scans.value.columns)
    misreads = dict(zip(unseen.value["Source"], unseen.value["Commonest misreads"]))
    assert np.isnan(misreads["CVL valid"]) and "→" in misreads["UNIPEN apa"]  # shown as "—"
    letters = dict(zip(unseen.value["Source"], unseen.value["Letters taken for digits"]))
    assert np.isnan(letters["CVL valid"])  # scanned digits only: no letters to let through
    # Shown as a person reads them: shares to two decimals, a dash where none was measured.
    shown = shown_values(unseen).set_index("Source")
    assert shown.loc["UNIPEN apa", "Read right"] == "96.12%"
    assert (
        shown.loc["CVL valid", "Letters flagged"]
        == shown.loc["CVL valid", "Letters taken for digits"]
        == "—"
    )
    assert unseen.proto.placeholder == "—"
    assert sites.value.to_dict("records")[0] == {
        "Site left out": "uqb",
        "Writers": 4,
        "Digits": left_out["samples"],
        "Read right": 0.9377,
        "Commonest misreads": "0→4 (20), 1→7 (11), 0→9 (9)",
        "Taken for no digit": left_out["digits_flagged"],
        "Letters flagged": left_out["letters_flagged"],
        "Letters taken for digits": "a→2 (12), y→4 (9)",  # two: the table fits the page
    }
    # The last row counts both sites' drawings together: the larger site weighs more.
    together = sites.value.to_dict("records")[-1]
    assert together["Site left out"] == "all together"
    assert together["Digits"] == left_out["samples"] + tos["samples"]
    assert together["Writers"] == 4 + tos["writers"]
    read = 0.9377 * left_out["samples"] + tos["accuracy"] * tos["samples"]
    assert together["Read right"] == pytest.approx(read / together["Digits"])
    flagged = sum(left_out["flagged_by_digit"]) + sum(tos["flagged_by_digit"])
    assert together["Taken for no digit"] == pytest.approx(flagged / together["Digits"])
    letters = left_out["letters"] + tos["letters"]
    caught = sum(site["letters_flagged"] * site["letters"] for site in (left_out, tos))
    assert together["Letters flagged"] == pytest.approx(caught / letters)
    assert together["Commonest misreads"].startswith("0→4 (20), 1→7 (11)")
    assert together["Letters taken for digits"] == "a→2 (14), y→4 (9)"
    # Models of another size, here one site left out, get a table of their own.
    captions = [caption.value for caption in card.caption]
    assert any("4 epochs on 15,000 MNIST digits" in caption for caption in captions)
    assert any("12 epochs on 60,000 MNIST digits" in caption for caption in captions)
    full_rows = sites_full_size.value.to_dict("records")
    assert [row["Site left out"] for row in full_rows] == ["uqb", "all together"]
    assert full_rows[0]["Read right"] == full_rows[1]["Read right"] == 0.9833
    measured_on = "4,000 digits of sources kept out of training"
    assert any(measured_on in caption.value for caption in card.caption)
    rows = read_right.value.set_index("Drawings")
    assert rows.loc["Pen digits, site site a"].tolist() == [0.97, 0.912]
    shown = shown_values(read_right).set_index("Drawings")
    assert shown.loc["Pen digits, site site a"].tolist() == ["97.00%", "91.20%"]
    assert np.isnan(rows.loc["Style: slashed zero", "Letters flagged"])
    assert shown.loc["Style: slashed zero", "Letters flagged"] == "—"
    assert read_right.proto.placeholder == "—"
    assert rows.loc["Style: slashed zero", "Read right"] == metrics["styles"]["slashed zero"]
    reliability = next(
        json.loads(chart.proto.spec)
        for chart in card.get("vega_lite_chart")
        if "Confidence given" in chart.proto.spec
    )
    assert reliability["layer"][1]["data"]["values"] == [
        {key: row[key] for key in ("confidence", "accuracy", "samples")} for row in bins
    ]
    # Each point says how many drawings it stands on: a label and a size.
    counts, points = reliability["layer"][2:]
    assert counts["encoding"]["text"]["field"] == points["encoding"]["size"]["field"] == "samples"


def committed_metrics_with_an_empty_fold() -> dict:
    """The committed figures, hand-edited so that a leave-one-site-out record names no site."""
    metrics = json.loads(digit_model.metrics_path(digit_model.DEFAULT_PATH).read_text())
    return metrics | {"leave_one_site_out": [{"epochs": 12, "mnist_digits": 60000, "sites": {}}]}


@pytest.mark.parametrize(
    ("metrics", "problem"),
    [
        (None, "No model metrics"),
        ({"test_accuracy": 0.99}, "not a complete metrics file"),
        (committed_metrics_with_an_empty_fold(), "needs each site it names read on digits"),
    ],
    ids=["missing", "incomplete", "empty fold"],
)
def test_model_without_usable_metrics_still_reads_digits_and_says_how_to_fix_the_card(
    tmp_path, monkeypatch, canvas, clear_digits, metrics, problem
):
    model_path = tmp_path / "model.keras"
    shutil.copy(digit_model.DEFAULT_PATH, model_path)
    if metrics is not None:
        digit_model.metrics_path(model_path).write_text(json.dumps(metrics))
    monkeypatch.setenv(digit_model.MODEL_PATH_VARIABLE, str(model_path))
    canvas.drawing = drawing(clear_digits[4])
    app = AppTest.from_file(str(REPO_ROOT / "webapp.py"), default_timeout=RUN_TIMEOUT).run()
    open_tab(app, "Model card")

    assert not app.exception
    assert answer(app) == "4"
    (warning,) = app.tabs[2].warning
    assert problem in warning.value
    assert digit_model.TRAIN_COMMAND in warning.value


@pytest.mark.parametrize(
    ("model_file", "problem"),
    [(None, "No model file"), (b"not a Keras archive", "could not be read")],
    ids=["missing", "corrupt"],
)
def test_unusable_model_file_shows_what_is_wrong_and_the_fix(
    tmp_path: Path, monkeypatch, canvas, model_file, problem
):
    model_path = tmp_path / "model.keras"
    if model_file is not None:
        model_path.write_bytes(model_file)
    monkeypatch.setenv(digit_model.MODEL_PATH_VARIABLE, str(model_path))
    app = AppTest.from_file(str(REPO_ROOT / "webapp.py"), default_timeout=RUN_TIMEOUT).run()

    assert not app.exception
    (error,) = app.error
    assert problem in error.value
    assert str(model_path) in error.value
    assert digit_model.TRAIN_COMMAND in error.value
    assert [tab.label for tab in app.tabs] == ["Draw", "History", "Model card"]
    assert canvas.calls == []
    assert answer(app) is None
