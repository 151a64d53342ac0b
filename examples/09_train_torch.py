"""Training a small PyTorch model on converted data (a plain loop over a tb pipeline)."""
import numpy as np
import torch

import tensorbridge as tb

rng = np.random.default_rng(0)
X = rng.random((1000, 10))
y = (X[:, 0] + X[:, 1] > 1).astype(np.float32)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(10, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
ds = tb.Dataset.from_tensor_slices((X, y)).shuffle(seed=0).batch(32).map(tb.ops.cast("float32"), on=0)
for epoch in range(5):
    for xb, yb in ds.as_torch():
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(xb).squeeze(1), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
with torch.no_grad():
    accuracy = ((model(tb.to_torch(X, dtype="float32")).squeeze(1) > 0).float() == tb.to_torch(y)).float().mean()
print("accuracy", float(accuracy))
assert accuracy > 0.85
