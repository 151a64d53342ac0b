"""Error handling: clear errors that subclass the built-in exceptions the tutorials catch."""
import numpy as np

import tensorbridge as tb

cases = [
    (lambda: tb.to_torch(np.array(["a", "b"])), TypeError),                 # strings are not numbers
    (lambda: tb.to_tf([[1, 2], [3]]), ValueError),                          # ragged
    (lambda: tb.to_torch(np.array([np.nan]), dtype="int32", casting="unsafe", checked=True), ValueError),
]
for make, kind in cases:
    try:
        make()
        raise AssertionError("expected an error")
    except kind as e:
        assert isinstance(e, tb.TensorbridgeError) or kind is ValueError, type(e)
        print(f"{type(e).__name__}: {e}")
