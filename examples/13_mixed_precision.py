"""Mixed precision: float16 and bfloat16 tensors with correct rounding, and checked casts."""
import numpy as np

import tensorbridge as tb

array = np.array([1.0, 0.1, 65504.0, 1e6], dtype=np.float32)
half = tb.to_torch(array, dtype="float16")                     # was: torch.from_numpy(a).half()
bf16 = tb.to_torch(array, dtype="bfloat16")
tf_half = tb.to_tf(array[:3], dtype="float16")
assert str(half.dtype) == "torch.float16" and str(bf16.dtype) == "torch.bfloat16"
assert float(half[1]) == float(np.float16(0.1)) and np.isinf(float(half[3]))   # 1e6 overflows float16
assert float(bf16[3]) == 999424.0                                              # bfloat16 keeps the range
assert tf_half.dtype.name == "float16"
try:
    tb.to_torch(array, dtype="float16", checked=True)
    raise AssertionError("expected an overflow error")
except OverflowError as e:
    print("checked:", e)
