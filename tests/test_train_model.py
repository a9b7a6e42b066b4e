"""train_model.py end to end on a small subset: it trains, saves, reports and evaluates."""

import argparse
import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

import digit_model
import train_model
from devtools.datasets import CVL_PATH, MNIST_PATH, UNIPEN_PATH
from digit_model.metrics import SourceFigures, pooled
from digit_model.network import build_model
from tests.support.data import MNIST_TEST_EVERY, cvl_valid, mnist, pen_unseen_sites, thinned
from training import calibration, cvl, datasets, unipen
from training.figures import SCANNED_SIDES, canvas_accuracy, scanned_at
from training.records import save_and_record
from training.scans import BLOCK, SCAN_SIDES, binary_scan
from training.styles import STYLES

# A model trained this briefly is unsure of most digits and reads each nine times (its
# second look): the evaluations read every 5th MNIST test digit (`small_mnist`) and every
# 20th CVL digit.
CVL_EVERY = 20
pytestmark = pytest.mark.usefixtures("few_drawings_per_style")


@pytest.fixture(scope="module")
def small_cvl(tmp_path_factory) -> Path:
    """CVL with a twentieth of each split's digits, writers of both among them."""
    cvl_valid()  # skip or fail clearly when CVL is absent
    path = tmp_path_factory.mktemp("cvl") / "cvl.npz"
    return thinned(CVL_PATH, path, CVL_EVERY, ("x", "y", "writer", "split"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory, small_mnist, small_cvl):
    pen_unseen_sites()  # skip or fail clearly when the pen handwriting or CVL is absent
    cvl_valid()
    out = tmp_path_factory.mktemp("model") / "model.keras"
    args = ["--data", str(small_mnist), "--pen", str(UNIPEN_PATH), "--cvl", str(small_cvl)]
    args += ["--limit", "1200"]
    args += ["--epochs", "2"]
    args += ["--canvas-train", "200", "--canvas-samples", "20"]
    train_model.main([*args, "--out", str(out)])
    return out


def test_training_writes_a_loadable_model_and_its_metrics(trained):
    classifier = digit_model.load(trained)
    assert classifier.predict_proba(mnist("test")[0][:4] / 255.0).shape == (4, 10)
    metrics = json.loads(digit_model.metrics_path(trained).read_text())
    assert metrics["epochs"] == 2
    # MNIST and its redrawn digits, plus pen digits, styled digits and not-digits in proportion.
    assert metrics["training_samples"] > 1080 + 200 and metrics["validation_samples"] > 120
    assert set(metrics["styles"]) == set(STYLES)
    assert metrics["pen"]["samples"] > 0 and 0 <= metrics["pen"]["letters_flagged"] <= 1
    # Letters flagged per site of held-out writers: every site with letters, the whole among them.
    by_site = metrics["pen"]["letters_by_site"]
    assert set(by_site) == set(metrics["pen"]["by_site"])
    assert min(by_site.values()) <= metrics["pen"]["letters_flagged"] <= max(by_site.values())
    assert len(metrics["per_digit_accuracy"]) == 10
    assert sum(map(sum, metrics["confusion_matrix"])) == len(mnist("test")[1][::MNIST_TEST_EVERY])
    assert metrics["canvas"]["samples"] == 20
    cvl_digits = metrics["unseen_sources"]["CVL valid"]["samples"]
    scanned = {side: source["samples"] for side, source in metrics["scanned"].items()}
    assert scanned == {f"{side} px": cvl_digits for side in SCANNED_SIDES}
    # Every unseen source scanned coarse, at the one grid the module asks for.
    unseen = set(metrics["unseen_sources"])
    assert set(metrics["coarse_scans"]) == {f"{name}, 16x16" for name in unseen}
    assert 0 <= metrics["test_accuracy"] <= 1
    assert set(metrics["history"]) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    # It learns: two short epochs leave MNIST's test digits near chance, which says little of the
    # recipe, but the training drawings are fitted better after the second epoch than the first.
    assert metrics["history"]["loss"][1] < metrics["history"]["loss"][0]
    assert metrics["history"]["accuracy"][1] > metrics["history"]["accuracy"][0]


def test_evaluate_prints_the_figures_of_an_existing_model(trained, small_mnist, capsys):
    capsys.readouterr()
    args = ["evaluate", "--data", str(small_mnist), "--canvas-samples", "10"]
    train_model.main([*args, "--model", str(trained)])
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and "canvas-style" in printed and "per digit" in printed
    assert "slashed zero" in printed and "temperature" in printed


def test_canvas_figures_read_in_chunks_are_those_of_every_drawing_at_once(classifier, monkeypatch):
    x_test, y_test = mnist("test")
    monkeypatch.setattr("training.figures.CANVAS_CHUNK", 1000)
    at_once = canvas_accuracy(classifier, x_test, y_test, 40)
    monkeypatch.setattr("training.figures.CANVAS_CHUNK", 7)
    in_chunks = canvas_accuracy(classifier, x_test, y_test, 40)
    assert in_chunks["samples"] == 40 and at_once["accuracy"] > 0.9
    assert in_chunks == at_once


def test_a_crash_while_measuring_a_new_model_leaves_the_model_before_and_its_figures(
    trained, tmp_path, monkeypatch
):
    out = tmp_path / "model.keras"
    shutil.copy(trained, out)
    shutil.copy(digit_model.metrics_path(trained), digit_model.metrics_path(out))
    before = out.read_bytes(), digit_model.metrics_path(out).read_bytes()

    def stopped(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr("training.records.evaluate", stopped)
    args = argparse.Namespace(out=out, canvas_samples=0)
    with pytest.raises(KeyboardInterrupt):
        save_and_record(build_model(), args, *mnist("test"), (None, {}), base={})

    assert (out.read_bytes(), digit_model.metrics_path(out).read_bytes()) == before
    assert digit_model.load(tmp_path / "model.partial.keras").model.count_params() > 0


def test_training_without_pen_handwriting_says_what_to_pass(capsys):
    with pytest.raises(SystemExit):
        train_model.main(["--data", str(MNIST_PATH)])
    assert "--pen" in capsys.readouterr().err


def test_evaluate_without_a_model_exits_with_the_fix(tmp_path):
    no_data, no_model = tmp_path / "no-mnist.npz", tmp_path / "none.keras"
    args = ["evaluate", "--data", str(no_data), "--model", str(no_model)]
    with pytest.raises(SystemExit, match="python train_model\\.py"):
        train_model.main(args)


def test_the_not_a_digit_threshold_flags_its_share_of_digits_on_average_over_sources():
    rng = np.random.default_rng(0)
    small, large = rng.normal(size=200), rng.normal(size=4000)
    offset = calibration.not_digit_offset([small, large], share=0.01)
    flagged = [(small > offset).mean(), (large > offset).mean()]
    assert np.mean(flagged) <= 0.01
    every = np.concatenate([small, large])
    highest_kept, lowest_flagged = every[every < offset].max(), every[every > offset].min()
    assert offset == pytest.approx((highest_kept + lowest_flagged) / 2)  # no digit sits on it
    flagging_one_more = [(small >= highest_kept).mean(), (large >= highest_kept).mean()]
    assert np.mean(flagging_one_more) > 0.01  # it flags as many as it may
    assert calibration.not_digit_offset([small, large], share=0.0) > every.max()
    # A wild digit in the small source moves the threshold by a step, not out to itself.
    wild = calibration.not_digit_offset([np.append(small[:-1], 50.0), large], share=0.01)
    assert abs(wild - offset) < 0.2


def test_a_scan_at_fewer_pixels_blurs_the_ink_and_at_full_size_keeps_it():
    image = mnist("test")[0][0] / np.float32(255)
    np.testing.assert_allclose(scanned_at(image, 28), image, atol=1 / 255)
    coarse = scanned_at(image, 12)
    assert coarse.shape == image.shape and (coarse > 0.1).sum() > 1.2 * (image > 0.1).sum()
    shift = np.subtract(ndimage.center_of_mass(coarse), ndimage.center_of_mass(image))
    assert np.abs(shift).max() < 0.6


@pytest.mark.parametrize("side", SCAN_SIDES)
def test_a_coarse_scan_is_black_and_white_blocky_and_fills_its_grid(side):
    image = mnist("test")[0][0] / np.float32(255)  # a 7, taller than wide
    scan = binary_scan(image, side)
    assert scan.shape == (side * BLOCK, side * BLOCK) and set(np.unique(scan)) == {0.0, 1.0}
    blocks = scan.reshape(side, BLOCK, side, BLOCK)
    assert (blocks == blocks[:, :1, :, :1]).all()  # each scanned pixel one block, unsmoothed
    grid = blocks[:, 0, :, 0]
    rows, cols = np.flatnonzero(grid.any(axis=1)), np.flatnonzero(grid.any(axis=0))
    assert rows[-1] - rows[0] + 1 == side and cols[-1] - cols[0] + 1 < side  # its shape kept
    stretched = binary_scan(image, side, stretch=True, margin=2)[::BLOCK, ::BLOCK]
    assert stretched[2:-2, 2:-2].any(axis=0).all() and not stretched[:2].any()


def test_the_not_a_digit_threshold_never_sits_on_a_digit_shared_by_sources():
    # Margins tied within and across sources, and interleaved between them.
    first, second = np.array([0.0, 1, 2, 2, 3]), np.array([1.0, 2, 2, 3, 4])
    assert calibration.not_digit_offset([first, second], share=0.25) == 3.5
    with pytest.raises(ValueError, match="share"):
        calibration.not_digit_offset([first, second], share=-0.1)


def test_characters_a_person_could_mean_as_a_digit_are_taught_as_neither_class():
    """O for 0, l for 1, and a comma or apostrophe, which at a digit's size is a 1's stroke,
    are neither trained as digits nor as "not a digit"; a plain letter or symbol is."""
    labels = np.array(["7", "a", "#", "O", "l", ",", "'", ".", "`"])
    blank = np.full(len(labels), "")
    pen = unipen.PenCharacters([np.zeros((0, 4))] * len(labels), labels, blank, blank)
    assert pen.is_digit.tolist() == [True] + [False] * 8
    assert pen.is_other.tolist() == [False, True, True] + [False] * 6


def spread(indices: np.ndarray, count: int) -> np.ndarray:
    """`count` of the indices, evenly spaced from the first to the last (all when fewer)."""
    if len(indices) <= count:
        return indices
    return indices[np.linspace(0, len(indices) - 1, count).round().astype(int)]


def write_pen_sites(path, sites: tuple[str, ...], per_site: int) -> dict[str, tuple[int, int]]:
    """A small unipen_dev.npz: `per_site` digits, as many letters and a fifth as many symbols
    of each site, spread over its writers; per site, how many digits and how many writers
    of them."""
    with np.load(UNIPEN_PATH) as data:
        arrays = {name: data[name] for name in data.files}
    strokes = np.split(arrays["points"], arrays["stroke_starts"][1:])
    per_char = np.split(np.arange(len(strokes)), arrays["char_starts"][1:])
    digits = np.isin(arrays["label"], list(unipen.DIGITS))
    alpha = np.char.isalpha(arrays["label"].astype(str))
    others = ~digits & ~np.isin(arrays["label"], list(unipen.DIGIT_LIKE))
    kinds = ((digits, per_site), (others & alpha, per_site), (others & ~alpha, per_site // 5))
    chosen = np.concatenate(
        [
            spread(np.flatnonzero((arrays["site"] == site) & kind), count)
            for site in sites
            for kind, count in kinds
        ]
    )
    kept = [strokes[i] for char in chosen for i in per_char[char]]
    np.savez(
        path,
        points=np.concatenate(kept),
        stroke_starts=np.cumsum([0] + [len(stroke) for stroke in kept[:-1]]),
        char_starts=np.cumsum([0] + [len(per_char[char]) for char in chosen[:-1]]),
        **{name: arrays[name][chosen] for name in ("label", "site", "writer")},
    )
    digit_writers = arrays["writer"][chosen][digits[chosen]]
    digit_sites = arrays["site"][chosen][digits[chosen]]
    return {
        site: (int((digit_sites == site).sum()), len(set(digit_writers[digit_sites == site])))
        for site in sites
    }


def test_sites_trains_without_each_site_and_records_how_it_reads_it(
    trained, small_cvl, tmp_path, monkeypatch, capsys
):
    pen = tmp_path / "pen.npz"
    digits_and_writers = write_pen_sites(pen, ("aga", "uqb"), per_site=80)
    model = tmp_path / "model.keras"
    shutil.copy(trained, model)
    # Sites measured earlier with models of another size are kept beside the new ones.
    metrics = json.loads(digit_model.metrics_path(trained).read_text())
    measured = next(iter(metrics["unseen_sources"].values()))
    larger = {"epochs": 12, "mnist_digits": 60000, "sites": {"aga": measured}}
    metrics["leave_one_site_out"] = [larger]
    digit_model.metrics_path(model).write_text(json.dumps(metrics))
    trained_on_sites, calibrated_on = [], []
    real_training_set, real_calibrate = datasets.training_set, calibration.calibrate

    def training_set(x, y, pen_train, *rest):
        trained_on_sites.append(set(pen_train.site))
        return real_training_set(x, y, pen_train, *rest)

    def calibrate(model, sources):
        calibrated_on.append(list(sources))
        return real_calibrate(model, sources)

    monkeypatch.setattr("training.sites.training_set", training_set)
    monkeypatch.setattr("training.sites.calibrate", calibrate)
    before = digit_model.load_metrics(model).to_dict()
    args = ["sites", "--data", str(MNIST_PATH), "--pen", str(pen), "--cvl", str(small_cvl)]
    args += ["--limit", "300", "--epochs", "1", "--model", str(model)]
    for site in ("aga", "uqb"):  # one at a time: the second adds to the first
        train_model.main([*args, "--site", site])

    # Each site's model never saw a writer of it, nor fitted its threshold on it.
    assert trained_on_sites == [{"uqb"}, {"aga"}]
    assert calibrated_on == [["CVL valid"], ["CVL valid"]]
    folds, kept = digit_model.load_metrics(model).leave_one_site_out
    assert folds.epochs == 1 and folds.mnist_digits == 300
    assert dataclasses.asdict(kept) == larger
    figures = {site: (fold.samples, fold.writers) for site, fold in folds.sites.items()}
    assert figures == digits_and_writers
    assert all(fold.letters == 80 for fold in folds.sites.values())
    with np.load(pen) as written:
        letters_written = {str(label) for label in written["label"] if label.isalpha()}
    for fold in folds.sites.values():  # which digit each was read as, the right ones included
        confusion = np.array(fold.confusion_matrix)
        assert confusion.sum() == fold.samples
        assert confusion.trace() / fold.samples == pytest.approx(fold.accuracy)
        # Every letter the verdict let through is counted once, under its own letter.
        let_through = sum(sum(row) for row in fold.letters_read_as.values())
        assert let_through == round((1 - fold.letters_flagged) * fold.letters)
        assert set(fold.letters_read_as) <= letters_written
    assert any(fold.letters_read_as for fold in folds.sites.values())  # a model this brief errs
    printed = capsys.readouterr().out
    assert "aga left out" in printed and "uqb left out" in printed and "misread: " in printed
    assert "let through " in printed
    after = digit_model.load_metrics(model).to_dict()
    after["leave_one_site_out"] = before["leave_one_site_out"]
    assert after == before  # the model's own figures are kept as they were


def test_evaluate_records_figures_measured_again_and_keeps_the_training_record(
    trained, small_mnist, small_cvl, tmp_path, capsys
):
    pen = tmp_path / "pen.npz"
    digits_and_writers = write_pen_sites(pen, ("aga", "apa", "tos"), per_site=100)
    model = tmp_path / "model.keras"
    shutil.copy(trained, model)
    before = json.loads(digit_model.metrics_path(trained).read_text())
    stale = {**before, "test_accuracy": 0.0, "unseen_sources": None, "canvas": None}
    digit_model.metrics_path(model).write_text(json.dumps(stale))
    args = ["evaluate", "--record", "--data", str(small_mnist), "--pen", str(pen)]
    args += ["--cvl", str(small_cvl), "--canvas-samples", "20", "--model", str(model)]
    train_model.main(args)

    after = json.loads(digit_model.metrics_path(model).read_text())
    assert after["test_accuracy"] == before["test_accuracy"]  # the same model, measured again
    assert after["canvas"]["samples"] == 20
    unseen = {name: source["samples"] for name, source in after["unseen_sources"].items()}
    assert unseen == {
        "UNIPEN apa": digits_and_writers["apa"][0],
        "UNIPEN tos": digits_and_writers["tos"][0],
        "CVL valid": len(cvl.load(small_cvl, "valid").digits),
    }
    scanned = {side: source["samples"] for side, source in after["scanned"].items()}
    assert set(scanned.values()) == {unseen["CVL valid"]}
    for kept in ("history", "epochs", "training_seconds", "training_samples", "trained_at"):
        assert after[kept] == before[kept]
    assert "Recorded in" in capsys.readouterr().out


def test_evaluate_records_only_when_every_figure_is_measured(trained, capsys):
    args = ["evaluate", "--record", "--data", str(MNIST_PATH), "--model", str(trained)]
    with pytest.raises(SystemExit):
        train_model.main(args)
    assert "--record needs --pen, --cvl" in capsys.readouterr().err


def test_sites_names_the_sites_there_are_when_asked_for_another(trained):
    args = ["sites", "--data", str(MNIST_PATH), "--pen", str(UNIPEN_PATH), "--cvl", str(CVL_PATH)]
    with pytest.raises(SystemExit, match=r"no site xyz; it has aga, apa, .*, uqb"):
        train_model.main([*args, "--site", "xyz", "--model", str(trained)])


def test_sites_pooled_weigh_each_drawing_alike():
    small = SourceFigures(
        accuracy=0.9,
        samples=100,
        writers=2,
        digits_flagged=0.03,
        flagged_by_digit=[1, 2] + [0] * 8,
        letters_flagged=0.5,
        letters=10,
        confusion_matrix=(np.eye(10, dtype=int) * 10).tolist(),
        letters_read_as={"a": [0, 0, 3] + [0] * 7, "y": [0] * 4 + [2] + [0] * 5},
    )
    scanned = SourceFigures(
        accuracy=1.0,
        samples=300,
        writers=5,
        digits_flagged=0.01,
        flagged_by_digit=[0, 3] + [0] * 8,
        letters_flagged=None,
        letters=0,
    )
    together = pooled([small, scanned])
    assert together.accuracy == pytest.approx(0.975)  # not 0.95, the mean of the two
    assert (together.samples, together.writers) == (400, 7)
    assert together.flagged_by_digit == [1, 5] + [0] * 8 and together.digits_flagged == 6 / 400
    assert (together.letters, together.letters_flagged) == (10, 0.5)
    assert together.confusion_matrix is None  # one source did not record which digit was read
    assert together.letters_read_as is None  # nor which letters were let through
    again = pooled([small, dataclasses.replace(small, letters_read_as={"a": [1] + [0] * 9})])
    assert again.letters_read_as == {"a": [1, 0, 3] + [0] * 7, "y": [0] * 4 + [2] + [0] * 5}


@pytest.mark.parametrize(("offset", "flagged"), [(-100.0, 1.0), (100.0, 0.0)])
def test_the_canvas_figure_counts_the_drawings_the_verdict_flags(classifier, offset, flagged):
    """The committed weights with the threshold moved so that every drawing is, or none is,
    called not a digit: the digits read stay the same, the share flagged follows the verdict."""
    moved = build_model(not_digit_offset=offset)
    moved.set_weights(classifier.model.get_weights())
    images, labels = mnist("test")
    as_committed = canvas_accuracy(classifier, images, labels, 20)
    figures = canvas_accuracy(digit_model.Classifier(moved), images, labels, 20)
    assert figures["digits_flagged"] == flagged
    assert figures["accuracy"] == as_committed["accuracy"]
