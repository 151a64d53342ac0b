"""ds.to_torch() in torch DataLoader worker processes: it pickles as its recipe, and every sample
appears exactly once per epoch whatever the start method."""

from __future__ import annotations

import operator
import pickle

import numpy as np
import pytest

import tensorbridge as tb

N = 50


@pytest.fixture
def npy_dataset(tmp_path):
    """(features, labels) from memory-mapped .npy files: x[i] = [i, -i], y[i] = i."""
    x = np.stack([np.arange(N, dtype=np.float32), -np.arange(N, dtype=np.float32)], axis=1)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.arange(N))
    return tb.Dataset.from_npy((tmp_path / "x.npy", tmp_path / "y.npy"))


@pytest.mark.parametrize("context", ["spawn", "forkserver"])
@pytest.mark.parametrize("persistent", [False, True])
def test_dataloader_workers_see_every_sample_once_per_epoch(context, persistent, npy_dataset, torch):
    ds = (npy_dataset.shuffle(seed=7).batch(4)
          .map(tb.ops.cast("float64"), on=0)   # native, in each worker's C++ threads
          .map(operator.neg, on=0)             # Python, in the workers
          .prefetch(2))
    loader = torch.utils.data.DataLoader(ds.to_torch(), batch_size=None, num_workers=2,
                                         multiprocessing_context=context, persistent_workers=persistent)
    assert len(loader) == 13
    epochs = []
    for _ in range(2):
        batches = list(loader)
        assert [len(yb) for _, yb in batches] == [4] * 12 + [2]  # the batches of one epoch, in order
        for xb, yb in batches:
            assert xb.dtype == torch.float64 and yb.dtype == torch.int64
            assert torch.equal(xb[:, 0], -yb.double())  # fields stay aligned, the maps ran
        samples = [i for _, yb in batches for i in yb.tolist()]
        assert sorted(samples) == list(range(N)), "every sample exactly once"
        epochs.append(samples)
    assert epochs[0] != epochs[1], "each epoch is shuffled anew"


def test_pickling_keeps_the_recipe_not_the_data(tmp_path, torch):
    big = np.arange(1 << 20, dtype=np.float64).reshape(-1, 8)  # 8 MiB
    np.save(tmp_path / "big.npy", big)
    mapped = np.memmap(tmp_path / "raw.bin", dtype=np.float64, mode="w+", shape=big.shape)
    mapped[:] = big
    mapped.flush()
    for ds in (tb.Dataset.from_npy(tmp_path / "big.npy"), tb.Dataset.from_tensor_slices({"x": mapped})):
        ds = ds.shuffle(seed=1).batch(1000).take(5).map(tb.ops.cast("float32"))
        blob = pickle.dumps(ds.to_torch())
        assert len(blob) < 4096, f"{len(blob)} bytes: the data went into the pickle"
        again = pickle.loads(blob)
        assert len(again) == len(ds) == 5
        for a, b in zip(again, ds.as_torch()):
            a, b = (a["x"], b["x"]) if isinstance(a, dict) else (a, b)
            assert torch.equal(a, b)


def test_pickled_data_sets_keep_every_stage():
    x, y = np.arange(40, dtype=np.float32).reshape(20, 2), np.arange(20) % 3
    ds = (tb.Dataset.from_tensor_slices({"x": x, "y": [int(v) for v in y]}).skip(1).shuffle().take(18)
          .shard(1, 0).batch(4, drop_remainder=True).map(tb.ops.one_hot(3), on="y").map(operator.neg, on="x")
          .repeat(2).prefetch(3, num_threads=2, block_bytes=100))
    again = pickle.loads(pickle.dumps(ds))
    assert again.element_spec == ds.element_spec and len(again) == len(ds) == 8
    first = [{k: v.tolist() for k, v in b.items()} for b in ds.as_numpy(state=None)]
    assert [{k: v.tolist() for k, v in b.items()} for b in again] == first  # the drawn seed went along
