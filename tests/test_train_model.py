"""train_model.py end to end on a small subset: it trains, saves, reports and evaluates."""

import json

import pytest

import digit_model
import train_model
from tests.mnist_data import MNIST_PATH, mnist


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    mnist("train")  # skips or fails clearly when MNIST is absent
    out = tmp_path_factory.mktemp("model") / "model.keras"
    args = ["--data", str(MNIST_PATH), "--limit", "1200", "--epochs", "1"]
    args += ["--canvas-train", "200", "--canvas-samples", "20"]
    train_model.main([*args, "--out", str(out)])
    return out


def test_training_writes_a_loadable_model_and_its_metrics(trained, capsys):
    classifier = digit_model.load(trained)
    assert classifier.predict_proba(mnist("test")[0][:4] / 255.0).shape == (4, 10)
    metrics = json.loads(digit_model.metrics_path(trained).read_text())
    assert metrics["epochs"] == 1
    assert metrics["training_samples"] == 1080 + 200 and metrics["validation_samples"] == 120
    assert len(metrics["per_digit_accuracy"]) == 10
    assert sum(map(sum, metrics["confusion_matrix"])) == 10000
    assert metrics["canvas"]["samples"] == 20
    assert metrics["test_accuracy"] > 0.3  # well above chance after one short epoch
    assert set(metrics["history"]) >= {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_evaluate_prints_the_figures_of_an_existing_model(trained, capsys):
    capsys.readouterr()
    args = ["evaluate", "--data", str(MNIST_PATH), "--canvas-samples", "10"]
    train_model.main([*args, "--model", str(trained)])
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and "canvas-style" in printed and "per digit" in printed


def test_evaluate_without_a_model_exits_with_the_fix(tmp_path):
    args = ["evaluate", "--data", str(MNIST_PATH), "--model", str(tmp_path / "none.keras")]
    with pytest.raises(SystemExit, match="python train_model\\.py"):
        train_model.main(args)
