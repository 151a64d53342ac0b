"""CSV to tensors: the tutorials' pd.read_csv + df[[...]].to_numpy() + convert, with tb.read_csv and
the same column selection (table[["a", "b"]] is a Table of those columns, as in pandas)."""
import tempfile
from pathlib import Path

import tensorbridge as tb

with tempfile.TemporaryDirectory() as d:
    path = Path(d) / "data.csv"
    path.write_text("feature1,feature2,label\n0.5,1.0,0\n1.5,2.0,1\n2.5,3.0,1\n")
    table = tb.read_csv(path)                                        # was: df = pd.read_csv(path)
    X = tb.to_tf(table[["feature1", "feature2"]], dtype="float32")   # tf.convert_to_tensor(X, dtype=tf.float32)
    y = tb.to_torch(table["label"], dtype="int64")                   # torch.from_numpy(y).long()
assert tuple(X.shape) == (3, 2) and X.dtype.name == "float32"
assert y.tolist() == [0, 1, 1] and str(y.dtype) == "torch.int64"
