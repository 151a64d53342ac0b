"""Structured arrays: one tensor per field without extracting fields by hand."""
import numpy as np

import tensorbridge as tb

structured = np.array([(1, 23.5), (2, 24.7)], dtype=[("id", np.int64), ("value", np.float64)])
cols = tb.from_structured(structured)                 # zero-copy strided views
value_tf = tb.to_tf(cols["value"], dtype="float32")
value_pt = tb.to_torch(cols["value"], dtype="float32")
assert tb.to_numpy(cols["id"]).tolist() == [1, 2]
assert np.allclose(tb.to_numpy(value_tf), [23.5, 24.7]) and np.allclose(value_pt.numpy(), [23.5, 24.7])
