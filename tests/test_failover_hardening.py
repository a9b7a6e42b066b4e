"""Failures in the middle of things: a stroke sent to a replica as it dies, PostgreSQL killed
during a save, and a full disk under the SQLite file. Whatever fails, the page never shows an
old answer, or "Saved", over what was not read or not kept."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

import tabs.draw.feedback_row
import tabs.draw.one_digit
from devtools.drawing import PLACEMENTS
from feedback.database import StorageUnavailable, create_engine
from feedback.labels import LabelledDrawing
from feedback.store import FeedbackStore
from tests.support.browser import (
    ANSWER_MS,
    FIRST_ANSWER_MS,
    answer,
    digit_choice,
    draw,
    expect_answer,
    opened_page,
)
from tests.support.page_app import (  # noqa: F401 (the page's fixtures)
    app,
    canvas,
    confirm_button,
    drawing,
    feedback_database,
    stored_labels,
)
from tests.test_replicas import DESKTOP, cluster, saved  # noqa: F401 (the cluster fixture)

INERT = "(control) => control.closest('[inert]') !== null"  # takes no click, key or focus
SMALL_DISK = "1m"  # the size of the filesystem filled up under a SQLite file


@pytest.mark.browser
@pytest.mark.postgres
def test_a_stroke_sent_to_a_dying_replica_never_leaves_the_old_answer_over_it(
    browser,
    cluster,  # noqa: F811
    clear_digits,
):
    with opened_page(browser, cluster.url, viewport=DESKTOP) as page:
        draw(page, clear_digits[7], *PLACEMENTS[0])
        expect_answer(page, 7, timeout=FIRST_ANSWER_MS)
        page.get_by_role("button", name=tabs.draw.feedback_row.CONFIRM_TEXT).click()
        saved(page, 7)
        # A look at History and back: the page's last run is the whole page's.
        page.get_by_role("tab", name="History").click()
        history = page.get_by_role("tabpanel", name="History")
        # Looked at once shown: a click on Draw while History is still being built can be
        # undone by the end of that run.
        expect(history.get_by_text("The only one so far;")).to_be_visible(timeout=ANSWER_MS)
        page.get_by_role("tab", name="Draw").click()
        expect_answer(page, 7)

        # The replica stops answering, takes the next stroke, and dies.
        replica = cluster.replicas[cluster.holding(page)]
        os.kill(replica.pid, signal.SIGSTOP)
        try:
            draw(page, clear_digits[1], *PLACEMENTS[1])
            # Until the new drawing is read, the old answer and its label are off the page,
            # and no digit can be given to a drawing other than the one on show.
            expect(answer(page)).to_be_hidden()
            expect(page.get_by_text("Saved as a 7", exact=False)).to_be_hidden()
            assert digit_choice(page, 3).evaluate(INERT)
        finally:
            os.kill(replica.pid, signal.SIGKILL)

        # The other replica reads the drawing on show: a new one, not saved yet.
        reconnected = page.get_by_test_id("stToast").filter(
            has_text=tabs.draw.one_digit.RECONNECTED
        )
        expect(reconnected).to_be_visible(timeout=ANSWER_MS)
        expect(answer(page)).to_be_visible()
        expect(page.get_by_text("Saved as a 7", exact=False)).to_be_hidden()
        assert not digit_choice(page, 3).evaluate(INERT)


def test_a_click_sent_with_a_drawing_not_read_yet_labels_neither_drawing(
    app,  # noqa: F811
    canvas,  # noqa: F811
    clear_digits,
    feedback_database,  # noqa: F811
):
    canvas.drawing = drawing(clear_digits[7])
    canvas.strokes = {"objects": [{"type": "path", "path": [["M", 40, 40], ["L", 200, 40]]}]}
    app.run()
    # The page's next stroke never reached the server: the click comes with the drawing on
    # show, which is not the drawing read.
    on_show = {"objects": [*canvas.strokes["objects"], {"type": "path", "path": [["M", 9, 9]]}]}
    app.session_state[tabs.draw.one_digit.CANVAS_KEY] = {"drawing": {"raw": on_show}}
    confirm_button(app).click().run()

    assert not app.exception
    assert stored_labels(feedback_database) == []
    assert [toast.value for toast in app.toast] == [tabs.draw.feedback_row.DRAWING_CHANGED]


def label(digit: int) -> LabelledDrawing:
    """A label of a drawing of its own."""
    image = np.full((28, 28), 10 * digit, dtype=np.uint8)
    return LabelledDrawing("visitor", digit, 0.9, digit, image)


@pytest.mark.postgres
def test_postgres_stopped_in_the_middle_of_a_save_says_it_was_not_saved(postgres_server):
    engine = create_engine(postgres_server.create_database())
    store = FeedbackStore(engine, retry_after_s=0)
    store.save(label(1))
    try:
        with (
            postgres_server.stopped_at_commit(engine),
            pytest.raises(StorageUnavailable) as failed,
        ):
            store.save(label(2))
    finally:
        postgres_server.start()

    assert str(failed.value) == "Saving feedback is unavailable right now."
    assert [entry.true_digit for entry in store.history()] == [1]  # nothing half-saved
    assert store.save(label(2))  # and, saved again, it is new
    assert store.count() == 2


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A directory on a small filesystem of its own (tmpfs), to fill up."""
    if os.geteuid() != 0:
        problem = "The full-disk test mounts a small tmpfs, which needs root"
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK}", "tmpfs", str(mount_point)],
        check=True,
    )
    try:
        yield mount_point
    finally:
        # The store's pooled connections may still hold the SQLite files open.
        subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


def fill(directory: Path) -> Path:
    """Fill the filesystem under `directory` with one file, until no byte more fits; its path."""
    filler = directory / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(descriptor, bytes(4096))
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(descriptor)
    return filler


def test_a_full_disk_under_the_sqlite_file_is_said_and_loses_no_label(
    app,  # noqa: F811
    canvas,  # noqa: F811
    clear_digits,
    small_disk,
    monkeypatch,
):
    url = f"sqlite:///{small_disk / 'feedback.db'}"
    monkeypatch.setenv("DIGIT_FEEDBACK_DB_URL", url)
    canvas.drawing = drawing(clear_digits[7])
    app.run()
    confirm_button(app).click().run()
    filler = fill(small_disk)

    canvas.drawing = drawing(clear_digits[3])
    app.run()
    confirm_button(app).click().run()

    assert not app.exception
    (said,) = [warning.value for warning in app.warning if "not kept" in warning.value]
    assert tabs.draw.feedback_row.DISK_FULL in said
    assert [row.true_digit for row in stored_labels(url)] == [7]
    # Once there is room again, the same click saves it.
    filler.unlink()
    confirm_button(app).click().run()
    assert [row.true_digit for row in stored_labels(url)] == [7, 3]
