"""A visitor's labels as examples of their handwriting: read back, forgotten, deleted."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import numpy as np

from feedback import database as feedback_database
from feedback.store import NO_EXAMPLES, FeedbackStore
from tests.support.labels import label_for, make_earlier_table


def digits_of(examples) -> list[int]:
    return [example.true_digit for example in examples]


def test_a_visitors_examples_are_their_latest_labels_oldest_first(store, drawings):
    for drawing in drawings[:5]:
        store.save(label_for(drawing, session_id="mine"))
    store.save(label_for(drawings[5], session_id="theirs"))

    stamp, examples = store.examples("mine", limit=3)
    assert digits_of(examples) == [drawing[2] for drawing in drawings[2:5]]
    assert examples[0].image.dtype == np.uint8 and examples[0].image.shape == (28, 28)
    assert np.array_equal(examples[-1].image, np.rint(drawings[4][0] * 255))
    assert stamp == store.examples_stamp("mine")
    assert stamp[0] == 5
    assert store.examples("nobody", limit=3) == (NO_EXAMPLES, [])


def test_the_stamp_changes_when_a_label_is_saved_changed_forgotten_or_deleted(store, drawings):
    stamps = [store.examples_stamp("mine")]
    store.save(label_for(drawings[0], session_id="mine"))
    stamps.append(store.examples_stamp("mine"))
    store.save(label_for(drawings[1], session_id="mine"))
    stamps.append(store.examples_stamp("mine"))
    store.save(label_for(drawings[1], session_id="mine", true_digit=(drawings[1][2] + 1) % 10))
    stamps.append(store.examples_stamp("mine"))
    store.forget_examples("mine")
    stamps.append(store.examples_stamp("mine"))
    store.save(label_for(drawings[2], session_id="mine"))
    stamps.append(store.examples_stamp("mine"))
    store.delete("mine")
    stamps.append(store.examples_stamp("mine"))
    assert all(before != after for before, after in itertools.pairwise(stamps))
    assert stamps[0] == stamps[-1] == NO_EXAMPLES


def test_the_stamp_changes_when_deleted_labels_are_followed_by_as_many_new_ones(store, drawings):
    """A database may give a new row the number of a row just deleted (SQLite does, for the
    table's last rows): a new drawing labelled with the same digit is still a change."""
    store.save(label_for(drawings[0], session_id="mine"))
    before = store.examples_stamp("mine")
    store.delete("mine")
    store.save(label_for(drawings[1], session_id="mine", true_digit=drawings[0][2]))

    assert store.examples_stamp("mine") != before


def test_the_stamp_tells_labels_deleted_from_labels_forgotten_or_added(store, drawings):
    """Deleted, even with new labels given since; not when labels were only forgotten, mended
    or added."""
    store.save(label_for(drawings[0], session_id="mine"))
    first = store.examples_stamp("mine")
    store.save(label_for(drawings[1], session_id="mine"))
    store.save(label_for(drawings[0], session_id="mine", true_digit=(drawings[0][2] + 1) % 10))
    store.forget_examples("mine")
    kept = store.examples_stamp("mine")
    assert not kept.deleted_since(first) and not first.deleted_since(NO_EXAMPLES)

    store.delete("mine")
    assert store.examples_stamp("mine").deleted_since(kept)
    for drawing in drawings[2:4]:
        store.save(label_for(drawing, session_id="mine"))
    assert store.examples_stamp("mine").deleted_since(kept)
    assert not store.examples_stamp("mine").deleted_since(NO_EXAMPLES)


def test_forgotten_labels_stay_saved_but_are_no_examples_until_labelled_again(store, drawings):
    for drawing in drawings[:3]:
        store.save(label_for(drawing, session_id="mine"))
    store.save(label_for(drawings[3], session_id="theirs"))

    assert store.forget_examples("mine") == 3
    assert store.examples("mine", limit=10)[1] == []
    assert store.count("mine") == 3  # still saved, in History and exports
    assert digits_of(store.examples("theirs", limit=10)[1]) == [drawings[3][2]]

    store.save(label_for(drawings[1], session_id="mine", true_digit=7))  # labelled anew
    store.save(label_for(drawings[4], session_id="mine"))  # a new label
    assert digits_of(store.examples("mine", limit=10)[1]) == [7, drawings[4][2]]


def test_a_forgotten_label_given_again_is_listed_as_new_a_mended_one_is_not(store, drawings):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for minute, drawing in enumerate(drawings[:2]):
        store.save(
            label_for(drawing, session_id="mine", created_at=start + timedelta(minutes=minute))
        )
    store.forget_examples("mine")
    store.save(label_for(drawings[2], session_id="mine", created_at=start + timedelta(minutes=2)))
    later = start + timedelta(minutes=3)

    store.save(label_for(drawings[0], session_id="mine", true_digit=7, created_at=later))
    store.save(label_for(drawings[2], session_id="mine", true_digit=8, created_at=later))

    listed = [(entry.true_digit, entry.created_at) for entry in store.history(session_id="mine")]
    assert listed == [  # newest first: the forgotten label given again, then the mended one
        (7, later),
        (8, start + timedelta(minutes=2)),
        (drawings[1][2], start + timedelta(minutes=1)),
    ]
    assert digits_of(store.examples("mine", limit=10)[1]) == [8, 7]


def test_deleting_a_visitors_labels_deletes_theirs_only(store, drawings):
    for drawing in drawings[:3]:
        store.save(label_for(drawing, session_id="mine"))
    store.save(label_for(drawings[3], session_id="theirs"))

    assert store.delete("mine") == 3
    assert store.count("mine") == 0
    assert store.examples("mine", limit=10)[1] == []
    assert store.count("theirs") == 1
    assert store.delete("mine") == 0


def test_a_table_from_before_forgetting_was_kept_gets_the_column_and_its_rows_are_examples(
    database_url, drawings
):
    make_earlier_table(database_url, drawings[0])

    engine = feedback_database.create_engine(database_url)
    store = FeedbackStore(engine)
    assert digits_of(store.examples("session-a", limit=10)[1]) == [drawings[0][2]]
    store.forget_examples("session-a")
    assert store.examples("session-a", limit=10)[1] == []
    engine.dispose()
