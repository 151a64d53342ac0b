"""GPU placement: runs on the CPU here, uses the GPU when torch sees one."""
import numpy as np
import torch

import tensorbridge as tb

device = "cuda" if torch.cuda.is_available() else "cpu"
positions = np.random.default_rng(0).random((100, 3)).astype(np.float32)
t = tb.to_torch(positions).to(device)          # share on the CPU, then one host -> device copy
distances = torch.cdist(t, t)
assert distances.shape == (100, 100) and distances.device.type == device
back = tb.to_numpy(distances.cpu())
assert np.allclose(np.diag(back), 0, atol=1e-3)
