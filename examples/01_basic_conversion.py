"""NumPy -> TensorFlow / PyTorch with dtype inference (the tutorials' tf.convert_to_tensor)."""
import numpy as np

import tensorbridge as tb

a = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32)
t = tb.to_tf(a)                       # was: tf.convert_to_tensor(a)
p = tb.to_torch(a)                    # was: torch.from_numpy(a)
print(t.dtype, p.dtype, tb.explain(a, to="torch"))
assert t.dtype.name == "int32" and str(p.dtype) == "torch.int32"
assert tb.to_numpy(t).tolist() == a.tolist() == p.tolist()
assert tb.to_torch([1.5, 2.0]).dtype.is_floating_point  # Python floats infer float32
