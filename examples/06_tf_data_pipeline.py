"""tf.data.Dataset.from_tensor_slices((X, y)).shuffle().batch(32).prefetch(tf.data.AUTOTUNE) with tb.Dataset:
tb.AUTOTUNE (or tf.data.AUTOTUNE itself) lets the pipeline choose its prefetch depth and threads."""
import numpy as np

import tensorbridge as tb

X = np.random.default_rng(0).random((100, 10)).astype(np.float32)
y = np.arange(100)
ds = tb.Dataset.from_tensor_slices((X, y)).shuffle(seed=0).batch(32).prefetch(tb.AUTOTUNE)
seen = []
for xb, yb in ds.as_tf():
    assert xb.shape[1] == 10 and xb.shape[0] in (32, 4)
    seen += tb.to_numpy(yb).tolist()
assert sorted(seen) == list(range(100))        # every sample exactly once per epoch
tf_ds = ds.to_tf_dataset()                     # a real tf.data.Dataset, for model.fit
assert sum(int(b[0].shape[0]) for b in tf_ds) == 100
