"""The pipeline under bad input and failing callables: clear errors, exact state, nothing skipped."""

from __future__ import annotations

import numpy as np
import pytest

import tensorbridge as tb


def test_map_raising_stop_iteration_is_a_runtime_error_not_the_end_of_the_epoch():
    """PEP 479: StopIteration escaping a callable must not pass for the end of the iteration."""

    def stop_at_batch_2(b):
        if b[0] == 20:
            raise StopIteration
        return b

    for on in (None, 0):
        ds = tb.Dataset.from_tensor_slices(np.arange(50)).batch(10).map(stop_at_batch_2, on=on)
        it = ds.as_numpy()
        assert [b[0] for b in (next(it), next(it))] == [0, 10]
        with pytest.raises(RuntimeError, match="raised StopIteration") as info:
            next(it)
        assert isinstance(info.value, tb.TensorbridgeError) and isinstance(info.value.__cause__, StopIteration)
        with pytest.raises(RuntimeError, match="stop_at_batch_2"):
            list(ds.as_numpy())
