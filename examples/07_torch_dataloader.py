"""TensorDataset + DataLoader(batch_size=32, shuffle=True) with tb.Dataset.as_torch()."""
import numpy as np

import tensorbridge as tb

X = np.random.default_rng(0).random((100, 10))
y = np.random.default_rng(1).integers(0, 2, 100)
ds = tb.Dataset.from_tensor_slices((X, y)).shuffle(seed=0).batch(32).map(tb.ops.cast("float32"), on=0)
batch_X, batch_y = next(iter(ds.as_torch()))
print(batch_X.shape, batch_y.shape)
assert tuple(batch_X.shape) == (32, 10) and str(batch_X.dtype) == "torch.float32"
assert tuple(batch_y.shape) == (32,) and str(batch_y.dtype) == "torch.int64"
