"""`train_model.py finetune` on a small feedback set exported by the feedback store."""

from __future__ import annotations

import json
import shutil
import tomllib

import numpy as np
import pytest

import digit_model
import train_model
from devtools.datasets import MNIST_PATH
from feedback.database import create_engine
from feedback.export import npz_chunks
from feedback.labels import LabelledDrawing
from feedback.settings import secrets_engine_kwargs
from feedback.store import FeedbackStore
from tests.support.data import MNIST_TEST_EVERY, mnist
from training import finetune
from training.canvas_drawings import canvas_style_inputs

FEEDBACK_DRAWINGS = 60
pytestmark = pytest.mark.usefixtures("few_drawings_per_style")


@pytest.fixture(scope="module")
def feedback_file(tmp_path_factory):
    """Canvas-style drawings labelled through the feedback store and exported as .npz."""
    images, labels = mnist("train")
    inputs, digits = canvas_style_inputs(
        images[:FEEDBACK_DRAWINGS], labels[:FEEDBACK_DRAWINGS], seed=5
    )
    folder = tmp_path_factory.mktemp("feedback")
    engine = create_engine(f"sqlite:///{folder / 'feedback.db'}")
    store = FeedbackStore(engine)
    for image, digit in zip(inputs, digits):
        store.save(LabelledDrawing("finetune-test", int(digit), 0.9, int(digit), image))
    path = folder / "feedback.npz"
    path.write_bytes(b"".join(npz_chunks(store.rows(), store.count())))
    engine.dispose()
    return path


@pytest.fixture
def model_copy(tmp_path):
    """The committed model and its metrics, copied so the repository's files stay untouched."""
    source = digit_model.DEFAULT_PATH
    copy = tmp_path / "current.keras"
    shutil.copy(source, copy)
    if digit_model.metrics_path(source).exists():
        shutil.copy(digit_model.metrics_path(source), digit_model.metrics_path(copy))
    return copy


def finetune_args(feedback_file, model, out, *extra, data=MNIST_PATH):
    """The command line of a quick fine-tuning; `data`: the MNIST file to mix in and measure on."""
    return [
        "finetune",
        "--feedback",
        str(feedback_file),
        "--data",
        str(data),
        "--model",
        str(model),
        "--out",
        str(out),
        "--limit",
        "300",
        "--epochs",
        "1",
        "--canvas-samples",
        "0",
        *extra,
    ]


def test_finetune_writes_a_new_model_and_reports_before_and_after(
    feedback_file, model_copy, small_mnist, tmp_path, capsys
):
    original = model_copy.read_bytes()
    out = tmp_path / "finetuned.keras"
    train_model.main(finetune_args(feedback_file, model_copy, out, data=small_mnist))

    printed = capsys.readouterr().out
    assert "held-out feedback" in printed and "on 12 drawings" in printed
    assert (
        "MNIST test" in printed
        and f"on {len(mnist('test')[1][::MNIST_TEST_EVERY])} digits" in printed
    )
    assert model_copy.read_bytes() == original

    metrics = json.loads(digit_model.metrics_path(out).read_text())
    tuned = metrics["finetune"]
    assert (tuned["feedback_samples"], tuned["held_out"], tuned["mnist_digits"]) == (60, 12, 300)
    before, after = tuned["mnist_test_accuracy_before"], tuned["mnist_test_accuracy_after"]
    assert after >= before - finetune.MAX_MNIST_DROP
    assert metrics["test_accuracy"] == pytest.approx(after)
    assert "architecture" in metrics  # what the model card shows is kept from training

    old = digit_model.load(model_copy).model.get_weights()
    new = digit_model.load(out).model.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(old, new))


def test_finetune_refuses_a_model_that_forgets_mnist(
    feedback_file, model_copy, small_mnist, tmp_path
):
    out = tmp_path / "ruined.keras"
    args = finetune_args(feedback_file, model_copy, out, "--learning-rate", "0.5", data=small_mnist)
    with pytest.raises(SystemExit, match=r"MNIST test accuracy fell by .* was not written"):
        train_model.main(args)
    assert not out.exists()
    assert not digit_model.metrics_path(out).exists()


def test_finetune_explains_a_feedback_file_it_cannot_use(feedback_file, model_copy, tmp_path):
    too_small = tmp_path / "few.npz"
    np.savez(too_small, x=np.zeros((3, 28, 28), np.uint8), y=np.array([1, 2, 3], np.uint8))
    with pytest.raises(SystemExit, match="holds 3 labelled drawings; fine-tuning needs at least"):
        train_model.main(finetune_args(too_small, model_copy, tmp_path / "out.keras"))

    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, x=np.zeros((20, 28, 28), np.float32), y=np.zeros(20, np.uint8))
    with pytest.raises(SystemExit, match=r"expected x \(N, 28, 28\) uint8"):
        train_model.main(finetune_args(wrong, model_copy, tmp_path / "out.keras"))

    with pytest.raises(SystemExit, match="is not a feedback data set"):
        train_model.main(finetune_args(tmp_path / "missing.npz", model_copy, tmp_path / "o.keras"))

    whole = feedback_file.read_bytes()
    cut_off = tmp_path / "cut_off.npz"  # a download that stopped halfway
    cut_off.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(SystemExit, match=r"cut_off\.npz is not a feedback data set"):
        train_model.main(finetune_args(cut_off, model_copy, tmp_path / "out.keras"))


@pytest.mark.postgres
def test_finetune_reads_the_configured_database_without_a_download(
    postgres_server, model_copy, small_mnist, tmp_path, monkeypatch
):
    """The owner fine-tunes on the server straight from the app's PostgreSQL database."""
    url = postgres_server.create_database()
    images, labels = mnist("train")
    inputs, digits = canvas_style_inputs(
        images[:FEEDBACK_DRAWINGS], labels[:FEEDBACK_DRAWINGS], seed=6
    )
    engine = create_engine(url)
    store = FeedbackStore(engine)
    for index, (image, digit) in enumerate(zip(inputs, digits)):
        store.save(LabelledDrawing(f"visitor-{index % 3}", int(digit), 0.9, int(digit), image))
    engine.dispose()
    monkeypatch.setenv("DIGIT_FEEDBACK_DB_URL", url)
    out = tmp_path / "from_database.keras"

    args = finetune_args(None, model_copy, out, data=small_mnist)
    train_model.main(args[:1] + args[3:])  # no --feedback

    tuned = json.loads(digit_model.metrics_path(out).read_text())["finetune"]
    assert (tuned["feedback_samples"], tuned["held_out"]) == (FEEDBACK_DRAWINGS, 12)


@pytest.mark.postgres
def test_finetune_opens_the_database_with_the_apps_engine_settings(
    postgres_server, tmp_path, monkeypatch
):
    """secrets.toml's create_engine_kwargs (here the schema the labels live in) hold for
    fine-tuning as for the page: it reads the labels the page saved, not an empty table."""
    url = postgres_server.create_database()
    admin_engine = create_engine(url)
    with admin_engine.begin() as connection:
        connection.exec_driver_sql("CREATE SCHEMA digits")
    admin_engine.dispose()
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(
        f'[connections.feedback]\nurl = "{url}"\n'
        "[connections.feedback.create_engine_kwargs.connect_args]\n"
        'options = "-c search_path=digits"\n'
    )
    page_engine = create_engine(url, secrets_engine_kwargs(tomllib.loads(secrets_file.read_text())))
    page_store = FeedbackStore(page_engine)
    images, labels = mnist("test")
    for index in range(12):
        image, digit = images[index] / np.float32(255), int(labels[index])
        page_store.save(LabelledDrawing("visitor", digit, 0.9, digit, image))
    page_engine.dispose()
    for variable in ("DIGIT_FEEDBACK_DB_URL", "DATABASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(finetune, "SECRETS_FILE", secrets_file)

    x, y = finetune.feedback_from_database()

    assert sorted(y.tolist()) == sorted(labels[:12].tolist())
    assert x.shape == (12, 28, 28)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("not a database url", "unreadable database URL"),
        ("postgresql+pg8000://host/feedback", "pg8000"),
    ],
)
def test_finetune_says_when_the_database_setting_cannot_be_used(
    url, reason, model_copy, tmp_path, monkeypatch
):
    monkeypatch.setenv("DIGIT_FEEDBACK_DB_URL", url)
    args = finetune_args(None, model_copy, tmp_path / "out.keras")
    with pytest.raises(SystemExit, match=f"Feedback storage is unavailable.*{reason}"):
        train_model.main(args[:1] + args[3:])
    assert not (tmp_path / "out.keras").exists()


def test_finetune_says_when_the_database_holds_too_few_labels(model_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_FEEDBACK_DB_URL", f"sqlite:///{tmp_path / 'feedback.db'}")
    args = finetune_args(None, model_copy, tmp_path / "out.keras")
    with pytest.raises(SystemExit, match="The feedback database holds 0 labelled drawings"):
        train_model.main(args[:1] + args[3:])
