"""Results of slow steps kept for the latest ink seen, keyed by its exact content.

A stroke changes only the ink near it, and the page reads the whole number again after each
one. So what depends only on some of the ink is kept for the latest ink seen, keyed by its
exact content (`fingerprint`): a group's cuts, a candidate's 28x28 input and the pen width of
a digit beside a mark, the same bit for bit, and the model's first look at a candidate. Only
the ink a stroke changed is worked on again.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import numpy as np

_Result = TypeVar("_Result")
MISSING = object()  # no result kept (a kept result may itself be None)


class Recent(Generic[_Result]):
    """The results of one slow function for the most recently used keys, safe across threads.

    Keys name the exact input (see `fingerprint`): a result kept is what was worked out for
    that very input. Kept arrays are read-only, as several readings may share them.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: OrderedDict[Hashable, _Result] = OrderedDict()
        self._lock = threading.Lock()

    def find(self, key: Hashable) -> _Result | object:
        """The result kept for `key`, now the most recently used, or MISSING."""
        with self._lock:
            result = self._kept.get(key, MISSING)
            if result is not MISSING:
                self._kept.move_to_end(key)
            return result

    def keep(self, key: Hashable, result: _Result) -> None:
        """Keep `result` for `key`, forgetting the least recently used beyond the size."""
        if isinstance(result, np.ndarray):
            result.flags.writeable = False
        with self._lock:
            self._kept[key] = result
            if len(self._kept) > self._size:
                self._kept.popitem(last=False)

    def get(self, key: Hashable, compute: Callable[[], _Result]) -> _Result:
        """The result kept for `key`, or `compute()` kept for it now."""
        result = self.find(key)
        if result is MISSING:
            result = compute()
            self.keep(key, result)
        return result

    def clear(self) -> None:
        """Forget every result kept."""
        with self._lock:
            self._kept.clear()


def fingerprint(array: np.ndarray) -> tuple[tuple[int, ...], str, bytes]:
    """An array's shape, type and a digest of its values: equal only for equal arrays."""
    array = np.ascontiguousarray(array)
    return array.shape, array.dtype.str, hashlib.sha256(array).digest()
