"""A pandas DataFrame to tensors: the tutorials' df.to_numpy() + torch.from_numpy(...).float() in one
call. Mixed column types (int + float) join in their common type, as df.to_numpy() decides it."""
import pandas as pd

import tensorbridge as tb

df = pd.DataFrame({"A": [1, 2, 3], "B": [4.5, 5.5, 6.5]})
x = tb.to_torch(df, dtype="float32")   # was: torch.from_numpy(df.to_numpy()).float()
t = tb.to_tf(df, dtype="float32")      # was: tf.convert_to_tensor(df.to_numpy(), dtype=tf.float32)
print(tb.explain(df, to="torch", dtype="float32"))  # gathered and cast in one pass
assert x.shape == (3, 2) and str(x.dtype) == "torch.float32"
assert x.tolist() == [[1.0, 4.5], [2.0, 5.5], [3.0, 6.5]] == t.numpy().tolist()
assert tb.to_numpy(df).dtype == df.to_numpy().dtype == "float64"  # without dtype=: the common type
