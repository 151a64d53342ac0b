"""A pandas DataFrame to tensors (df.to_numpy() + torch.from_numpy().float())."""
import pandas as pd

import tensorbridge as tb

df = pd.DataFrame({"A": [1, 2, 3], "B": [4.5, 5.5, 6.5]})
table = tb.from_dataframe(df)             # numeric columns shared, not copied
x = tb.to_torch(table.to_tensor(dtype="float32"))  # one (3, 2) float32 matrix
assert x.shape == (3, 2) and str(x.dtype) == "torch.float32"
assert x.tolist() == [[1.0, 4.5], [2.0, 5.5], [3.0, 6.5]]
