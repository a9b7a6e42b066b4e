"""train_model.py end to end on a small subset: it trains, saves, reports and evaluates."""

import json

import pytest

import digit_model
import train_model
from devtools.datasets import CVL_PATH, MNIST_PATH, UNIPEN_PATH
from tests.support.data import cvl_valid, mnist, pen_unseen_sites


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    mnist("train")  # skip or fail clearly when MNIST or the pen handwriting is absent
    pen_unseen_sites()
    cvl_valid()
    out = tmp_path_factory.mktemp("model") / "model.keras"
    args = ["--data", str(MNIST_PATH), "--pen", str(UNIPEN_PATH), "--cvl", str(CVL_PATH)]
    args += ["--limit", "1200"]
    args += ["--epochs", "2"]
    args += ["--canvas-train", "200", "--canvas-samples", "20"]
    train_model.main([*args, "--out", str(out)])
    return out


def test_training_writes_a_loadable_model_and_its_metrics(trained, capsys):
    classifier = digit_model.load(trained)
    assert classifier.predict_proba(mnist("test")[0][:4] / 255.0).shape == (4, 10)
    metrics = json.loads(digit_model.metrics_path(trained).read_text())
    assert metrics["epochs"] == 2
    # MNIST and its redrawn digits, plus pen digits, styled digits and not-digits in proportion.
    assert metrics["training_samples"] > 1080 + 200 and metrics["validation_samples"] > 120
    assert set(metrics["styles"]) == set(train_model.STYLES)
    assert metrics["pen"]["samples"] > 0 and 0 <= metrics["pen"]["letters_flagged"] <= 1
    assert len(metrics["per_digit_accuracy"]) == 10
    assert sum(map(sum, metrics["confusion_matrix"])) == 10000
    assert metrics["canvas"]["samples"] == 20
    assert metrics["test_accuracy"] > 0.15  # above chance after two short epochs on few digits
    assert set(metrics["history"]) >= {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_evaluate_prints_the_figures_of_an_existing_model(trained, capsys):
    capsys.readouterr()
    args = ["evaluate", "--data", str(MNIST_PATH), "--canvas-samples", "10"]
    train_model.main([*args, "--model", str(trained)])
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and "canvas-style" in printed and "per digit" in printed
    assert "slashed zero" in printed and "temperature" in printed


def test_training_without_pen_handwriting_says_what_to_pass(capsys):
    with pytest.raises(SystemExit):
        train_model.main(["--data", str(MNIST_PATH)])
    assert "--pen" in capsys.readouterr().err


def test_evaluate_without_a_model_exits_with_the_fix(tmp_path):
    args = ["evaluate", "--data", str(MNIST_PATH), "--model", str(tmp_path / "none.keras")]
    with pytest.raises(SystemExit, match="python train_model\\.py"):
        train_model.main(args)
