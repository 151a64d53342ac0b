"""A batch of images (N, H, W, C) to tensors, and HWC -> CHW for PyTorch."""
import numpy as np

import tensorbridge as tb

images = np.random.default_rng(0).random((3, 64, 64, 3)).astype(np.float32)
tf_images = tb.to_tf(images)                                   # (3, 64, 64, 3) for Keras
chw = tb.to_torch(images).permute(0, 3, 1, 2)                  # a view: (3, 3, 64, 64)
chw_op = tb.to_torch(tb.ops.permute(2, 0, 1)(images))          # the pipeline's native op (axes per sample)
assert tuple(tf_images.shape) == (3, 64, 64, 3) and tuple(chw.shape) == (3, 3, 64, 64)
assert np.array_equal(chw_op.numpy(), chw.numpy())
