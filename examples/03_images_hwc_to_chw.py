"""A real JPEG to tensors: read it (HWC uint8), scale to [0, 1], and HWC -> CHW for PyTorch."""
import os

import numpy as np
import sklearn

import tensorbridge as tb

path = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "images", "china.jpg")
image = tb.read_image(path)                                    # cv2.imread(path), but RGB: (427, 640, 3) uint8
scaled = tb.ops.cast("float32")(tb.to_numpy(image)[None]).numpy()[0] / 255.0
tf_image = tb.to_tf(scaled)                                    # (427, 640, 3) for Keras
chw = tb.to_torch(scaled).permute(2, 0, 1)                     # a view: (3, 427, 640)
chw_op = tb.to_torch(tb.ops.permute(2, 0, 1)(scaled[None]))    # the pipeline's native op (axes per sample)
assert image.shape == (427, 640, 3) and image.dtype == "uint8"
assert tuple(tf_image.shape) == (427, 640, 3) and tuple(chw.shape) == (3, 427, 640)
assert np.array_equal(chw_op[0].numpy(), chw.numpy())
