"""Back to NumPy from each framework (tensor.numpy(), tensor.cpu().numpy(), np.asarray(jax))."""
import jax.numpy as jnp
import numpy as np
import tensorflow as tf
import torch

import tensorbridge as tb

expected = [[1.0, 2.0], [3.0, 4.0]]
for tensor in (torch.tensor(expected), tf.constant(expected), jnp.array(expected)):
    back = tb.to_numpy(tensor)
    assert isinstance(back, np.ndarray) and back.tolist() == expected, type(tensor)
assert tb.explain(torch.tensor(expected), to="numpy").zero_copy     # CPU torch tensors are shared
