"""The committed model: accuracy on MNIST and on canvas-style drawings through the full pipeline."""

from pathlib import Path

import keras
import numpy as np
import pytest

import digit_model
from preprocess import CENTRE, canvas_to_ink
from reading import read_digit, read_digits
from tests.support.data import cvl_valid, mnist, pen_unseen_sites
from training.canvas_drawings import COLOUR_SETUPS, centre_line, draw, random_drawings
from training.sources import SPLIT_SEED, unseen_sources


def read(classifier, rgba: np.ndarray) -> int:
    return read_digit(classifier, canvas_to_ink(rgba)).digit


def test_committed_model_reads_mnist_test_digits(classifier):
    images, labels = mnist("test")
    predicted = classifier.predict_proba(images[:3000] / np.float32(255)).argmax(axis=1)
    assert (predicted == labels[:3000]).mean() >= 0.99


def test_committed_model_reads_canvas_style_drawings(classifier):
    images, labels = mnist("test")
    drawings = list(random_drawings(images[-300:], labels[-300:], seed=7))
    readings = read_digits(classifier, [canvas_to_ink(rgba) for rgba, _, _ in drawings])
    predicted = np.array([reading.digit for reading in readings])
    assert (predicted == [label for _, label, _ in drawings]).mean() >= 0.97


def test_answer_does_not_depend_on_place_size_or_colours(classifier):
    images, labels = mnist("test")
    for index in range(10):
        segments, label = centre_line(images[index] / 255.0), int(labels[index])
        for (height, top, left), setup in zip(
            [(200, 20, 30), (80, 15, 15), (110, 160, 150), (150, 60, 100), (60, 200, 20)],
            COLOUR_SETUPS,
        ):
            brush = max(4.0, height / 10)
            assert read(classifier, draw(segments, height, top, left, brush, setup)) == label


def test_probabilities_are_a_distribution(classifier):
    images, _ = mnist("test")
    probabilities = classifier.predict_proba(images[:5] / np.float32(255))
    assert probabilities.shape == (5, 10)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)


def test_predict_proba_rejects_wrong_shapes(classifier):
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        classifier.predict_proba(np.zeros((28, 28), np.float32))


def first_look(classifier, images: np.ndarray) -> np.ndarray:
    """The calibrated logits of one pass of the network alone, without the second look."""
    model = classifier.model
    calibrated = keras.Model(model.inputs, model.get_layer(digit_model.CALIBRATED_LAYER).output)
    return calibrated.predict(images, verbose=0)


def softmax(logits: np.ndarray) -> np.ndarray:
    odds = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return odds / odds.sum(axis=-1, keepdims=True)


def test_a_sure_reading_is_one_look_and_an_unsure_one_averages_its_views(classifier):
    images, _ = mnist("test")
    inputs = images[:2000] / np.float32(255)
    single = softmax(first_look(classifier, inputs))
    read = classifier.read_all(inputs)
    sure = single.max(axis=1) >= digit_model.SURE_ABOVE
    assert 0 < (~sure).sum() < 0.05 * len(inputs)
    assert np.allclose(read.probabilities[sure], single[sure], atol=1e-5)
    for image, before, after in zip(inputs[~sure][:5], single[~sure], read.probabilities[~sure]):
        looks = first_look(classifier, np.concatenate([image[None], digit_model.views(image)]))
        assert np.allclose(after, softmax(looks.mean(axis=0)), atol=1e-5)
        assert not np.allclose(after, before, atol=1e-3)
    # The verdict and the features are the first look's, for every drawing.
    once = classifier.read_all(inputs, second_look=False)
    assert np.allclose(once.probabilities, single, atol=1e-5)
    assert np.array_equal(read.not_digit, once.not_digit)
    assert np.array_equal(read.features, once.features)


def test_views_move_turn_and_resize_the_drawing_a_little():
    rows, cols = np.indices((28, 28))
    # A round dot 8 pixels right of where normalisation puts the centre of mass.
    dot = np.exp(-((rows - CENTRE) ** 2 + (cols - CENTRE - 8) ** 2) / 2).astype(np.float32)

    def place(picture):
        return np.array([(rows * picture).sum(), (cols * picture).sum()]) / picture.sum() - CENTRE

    moved = digit_model.views(dot)
    assert moved.shape == (8, 28, 28) and moved.dtype == np.float32
    places = [place(view) for view in moved]
    turned = 8 * np.array([np.sin(np.radians(8)), np.cos(np.radians(8))])
    assert np.allclose(places[:4], [(1, 8), (-1, 8), (0, 9), (0, 7)], atol=0.05)
    assert np.allclose(sorted(places[4:6], key=tuple), [turned * (-1, 1), turned], atol=0.05)
    assert np.allclose(places[6:], [(0, 7.2), (0, 8.8)], atol=0.1)  # sampling blurs a little


def test_reading_an_empty_batch_gives_empty_answers(classifier):
    outputs = classifier.read_all(np.zeros((0, 28, 28), np.float32))
    assert outputs.probabilities.shape == (0, 10) and outputs.not_digit.shape == (0,)
    assert len(outputs.features) == 0


def test_a_large_batch_is_read_a_bounded_number_at_a_time(classifier, monkeypatch):
    images, _ = mnist("test")
    inputs = images[: digit_model.MAX_BATCH + 300] / np.float32(255)
    # Turned on their side, most digits are unsure: their views are many.
    inputs[:400] = np.rot90(inputs[:400], axes=(1, 2))
    call_sizes = []
    forward = classifier._forward

    def counted(images):
        call_sizes.append(len(images))
        return forward(images)

    monkeypatch.setattr(classifier, "_forward", counted)
    whole = classifier.read_all(inputs)
    assert max(call_sizes) <= digit_model.MAX_BATCH
    assert sum(call_sizes) > len(inputs) + 8 * 200  # more than 200 drawings looked at again
    parts = [classifier.read_all(inputs[:700]), classifier.read_all(inputs[700:])]
    for name in ("probabilities", "not_digit", "features"):
        joined = np.concatenate([getattr(part, name) for part in parts])
        assert np.allclose(getattr(whole, name), joined, atol=1e-4)


def test_the_second_look_reads_unseen_writers_better(classifier):
    """Over the sources training never sees, drawn as `evaluate` draws them, the second look
    reads more digits right than the first look alone, and no source fewer. Only their
    digits are drawn: drawing the letters too would take most of the time."""
    pen = pen_unseen_sites()
    sources = unseen_sources(pen.subset(pen.is_digit), cvl_valid(), SPLIT_SEED)
    gains = {}
    for name, source in sources.items():
        single = first_look(classifier, source.digits).argmax(axis=1)
        read = classifier.predict_proba(source.digits).argmax(axis=1)
        gains[name] = int((read == source.labels).sum() - (single == source.labels).sum())
    assert min(gains.values()) >= 0, gains
    assert sum(gains.values()) > 0, gains


def test_missing_model_file_says_how_to_fix_it(tmp_path):
    elsewhere = tmp_path / "model.keras"
    with pytest.raises(digit_model.ModelUnavailable) as missing:
        digit_model.load(elsewhere)
    # The command trains into the file that is missing; git restores only the committed one.
    assert f"{digit_model.TRAIN_COMMAND} --out {elsewhere}`" in str(missing.value)
    assert "git checkout" not in str(missing.value)
    assert digit_model.train_command(digit_model.DEFAULT_PATH) == digit_model.TRAIN_COMMAND


@pytest.mark.parametrize("there", [True, False], ids=["a picture", "missing"])
def test_a_path_no_model_can_have_is_not_to_be_trained_into(tmp_path, there):
    picture = tmp_path / "digit.png"
    if there:
        picture.write_bytes(b"\x89PNG\r\n\x1a\n not a model")
    with pytest.raises(digit_model.ModelUnavailable) as refused:
        digit_model.load(picture)
    assert "A model is a .keras file" in str(refused.value)
    assert "--out" not in str(refused.value)  # training into it would overwrite the picture


def test_corrupt_model_file_says_how_to_fix_it(tmp_path):
    corrupt = tmp_path / "model.keras"
    corrupt.write_bytes(digit_model.DEFAULT_PATH.read_bytes()[:5000])
    with pytest.raises(digit_model.ModelUnavailable) as refused:
        digit_model.load(corrupt)
    said = str(refused.value)
    assert f"The model file {corrupt} could not be read" in said
    assert "cut short in copying, or another kind of file" in said
    assert "not found" not in said.lower()  # it is there: Keras's own words mislead
    assert f"--out {corrupt}`" in said


def test_a_model_file_the_app_may_not_read_is_not_to_be_retrained(tmp_path, monkeypatch):
    """A model.keras mounted into a container with the wrong owner: retraining fixes nothing."""
    model = tmp_path / "model.keras"
    model.write_bytes(digit_model.DEFAULT_PATH.read_bytes())

    def refused(path: Path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "open", refused)
    with pytest.raises(digit_model.ModelUnavailable) as unreadable:
        digit_model.load(model)
    assert str(unreadable.value) == (
        f"The model file {model} could not be opened (Permission denied). "
        "Check that the app's user may read it."
    )


def test_a_folder_given_as_the_model_is_called_a_folder(tmp_path):
    with pytest.raises(digit_model.ModelUnavailable) as refused:
        digit_model.load(tmp_path)
    assert str(refused.value).startswith(f"{tmp_path} is a folder, not a model file.")
    assert "A model is a .keras file" in str(refused.value)
