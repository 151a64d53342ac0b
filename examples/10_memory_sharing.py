"""Memory sharing vs copying: tb.to_torch shares like torch.from_numpy; copy=True copies like
torch.tensor; copy=False refuses to copy; tb.explain says which will happen."""
import numpy as np

import tensorbridge as tb

array = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
shared = tb.to_torch(array)
copied = tb.to_torch(array, copy=True)
array[0, 0] = 99.0
assert shared[0, 0] == 99.0 and copied[0, 0] == 1.0
assert tb.explain(array, to="torch").zero_copy
plan = tb.explain(array[:, ::-1], to="torch")     # negative strides: torch cannot alias them
print(plan)
assert not plan.zero_copy and plan.bytes_to_copy == array.nbytes
try:
    tb.to_torch(array[:, ::-1], copy=False)
    raise AssertionError("expected a SharingError")
except tb.SharingError as e:
    print("copy=False refused:", e)
