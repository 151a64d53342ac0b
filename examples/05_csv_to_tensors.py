"""CSV to tensors (pd.read_csv + to_numpy + convert) in one read with tb.read_csv."""
import tempfile
from pathlib import Path

import tensorbridge as tb

with tempfile.TemporaryDirectory() as d:
    path = Path(d) / "data.csv"
    path.write_text("feature1,feature2,label\n0.5,1.0,0\n1.5,2.0,1\n2.5,3.0,1\n")
    table = tb.read_csv(path)
    x = tb.to_tf(table.to_tensor(["feature1", "feature2"], dtype="float32"))  # float32 (3, 2)
    y = tb.to_torch(table["label"])                                   # int64 labels
assert tuple(x.shape) == (3, 2) and x.dtype.name == "float32"
assert y.tolist() == [0, 1, 1] and str(y.dtype) == "torch.int64"
