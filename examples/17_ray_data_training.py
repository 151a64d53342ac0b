"""Ray Data for preprocessing, tensorbridge for the Arrow -> tensor hand-off, torch for training.

Ray Data reads Parquet into Arrow blocks, a tensorbridge op normalises each block (one gather +
cast of the feature columns, then a native normalize), and `streaming_split(2)` feeds two ranks,
whose Arrow batches become torch tensors through tensorbridge: no per-batch NumPy round trip. On a
cluster, `ray.init(address=...)` and each split going to one `torch.distributed` rank (or a Ray
Train worker) is all that changes.
"""
import os
import tempfile
import threading

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing leaves the machine

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import ray
import torch

import tensorbridge as tb

ROWS, FEATURES = 20_000, [f"f{i}" for i in range(8)]
rng = np.random.default_rng(0)
columns = {name: rng.standard_normal(ROWS) * (i + 1) + i for i, name in enumerate(FEATURES)}
columns["label"] = (columns["f0"] > 0).astype(np.int64)
mean = [float(columns[f].mean()) for f in FEATURES]
std = [float(columns[f].std()) for f in FEATURES]
NORMALIZE = tb.ops.normalize(mean, std)


def preprocess(batch: pa.Table) -> pa.Table:
    """One Arrow block in, one out: the float64 features gathered into one float32 matrix and
    normalised by tensorbridge, returned as a FixedSizeList column (sharing the result's memory)."""
    x = NORMALIZE(tb.from_arrow(batch).to_tensor(FEATURES, dtype="float32"))
    return pa.table({"x": pa.array(x), "label": batch["label"]})


def rank(split, index: int, out: dict) -> None:
    """One training rank: Arrow batches -> torch tensors -> a few SGD steps of a linear model."""
    torch.manual_seed(index)
    model = torch.nn.Linear(len(FEATURES), 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    rows = 0
    for batch in split.iter_batches(batch_size=512, batch_format="pyarrow"):
        x = tb.to_torch(batch["x"])  # (B, 8) float32: one copy out of Ray's read-only block
        y = tb.to_torch(batch["label"])
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        rows += len(y)
    out[index] = (rows, loss.item())


with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "train.parquet")
    pq.write_table(pa.table(columns), path, row_group_size=2_500)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False
        ds = ray.data.read_parquet(path).map_batches(preprocess, batch_format="pyarrow")
        splits = ds.streaming_split(2, equal=True)
        results: dict = {}
        ranks = [threading.Thread(target=rank, args=(s, i, results)) for i, s in enumerate(splits)]
        for t in ranks:
            t.start()
        for t in ranks:
            t.join()
    finally:
        ray.shutdown()

seen = sum(rows for rows, _ in results.values())
assert sorted(results) == [0, 1] and seen == ROWS, results
assert all(loss < 0.5 for _, loss in results.values()), results  # the label is a threshold of f0: learnt
print(f"2 ranks trained on {seen} rows; final losses {[round(l, 3) for _, l in results.values()]}")
