"""An explicit dtype: int32 -> float32 (tf.convert_to_tensor(a, dtype=tf.float32)), and a lossy
float -> int cast that tensorbridge refuses unless asked, or checks."""
import numpy as np

import tensorbridge as tb

a = np.array([1, 2, 3, 4], dtype=np.int32)
t = tb.to_tf(a, dtype="float32")
assert t.dtype.name == "float32" and tb.to_numpy(t).tolist() == [1.0, 2.0, 3.0, 4.0]
f = np.array([1.7, -2.2])
try:
    tb.to_torch(f, dtype="int32")  # float -> int is not "same_kind": refused, not silently truncated
    raise AssertionError("expected a DTypeError")
except tb.DTypeError as e:
    print("refused:", e)
assert tb.to_torch(f, dtype="int32", casting="unsafe").tolist() == [1, -2]
