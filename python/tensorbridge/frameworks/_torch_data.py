"""A tb.Dataset as a torch IterableDataset that pickles (Dataset.to_torch).

Kept apart from the conversion adapter: an unpickled copy lives in each DataLoader worker until
the interpreter is gone, and its class's module should hold nothing native then.
"""

from __future__ import annotations

import pickle
from functools import cache
from typing import Any

from ._common import require


def iterable_dataset(ds: Any) -> Any:
    """``ds`` (a ``tb.Dataset``) as a ``torch.utils.data.IterableDataset`` that pickles, so that
    DataLoader workers of any start method can run it (``Dataset.to_torch``)."""
    return _iterable_class()(ds, None)


def _unpickled_iterable(pickled: bytes) -> Any:
    return _iterable_class()(None, pickled)


@cache
def _iterable_class() -> type:
    torch = require("torch")

    class TensorbridgeIterable(torch.utils.data.IterableDataset):  # type: ignore[misc,name-defined]
        # An unpickled copy (in a worker process) holds the pickled data set, not the data set:
        # each iteration unpickles it again (its recipe: O(1) for mapped files), so nothing native
        # outlives an iteration in the worker, whose process object keeps this copy alive until
        # the interpreter is gone.
        def __init__(self, ds: Any, pickled: bytes | None) -> None:
            super().__init__()
            self._ds = ds
            self._pickled = pickled
            self._iterations = 0  # iterations run by this worker (persistent workers run several)

        def __reduce__(self) -> tuple[Any, ...]:
            return (_unpickled_iterable, (self._pickled or pickle.dumps(self._ds),))

        def _dataset(self) -> Any:
            return self._ds if self._ds is not None else pickle.loads(self._pickled)  # type: ignore[arg-type]

        def __iter__(self) -> Any:
            ds = self._dataset()
            info = torch.utils.data.get_worker_info()
            if info is None:
                return ds.as_torch()
            # Worker id makes batches id, id + n, ... of the iteration: the DataLoader's round
            # robin over workers then gives the single-process stream. The
            # workers agree on the epoch through the seed the DataLoader draws for each iteration
            # (info.seed is that seed + the worker id); a fresh worker process knows no other.
            epochs = ds._c.epoch_step
            epoch = (info.seed - info.id) % 2**62 + self._iterations * epochs
            self._iterations += 1
            return ds._iterate_part("torch", epoch, info.id, info.num_workers)

        def __len__(self) -> int:
            return len(self._dataset())

    return TensorbridgeIterable
