"""The data pipeline: order, exactly-once, determinism, resume, maps, errors, adapters."""

from __future__ import annotations

import gc
import itertools
import subprocess
import sys
import textwrap
import traceback
import weakref

import numpy as np
import pytest

import tensorbridge as tb


def index_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Features whose first column is the sample index, and the index as an int64 label."""
    x = np.stack([np.arange(n, dtype=np.float32), -np.arange(n, dtype=np.float32)], axis=1)
    return x, np.arange(n, dtype=np.int64)


def epoch_samples(it) -> list[list[int]]:
    out = []
    for xb, yb in it:
        assert np.array_equal(xb[:, 0].astype(np.int64), yb)  # fields stay aligned
        out.append(yb.tolist())
    return out


# drop_remainder exists only with batch(): those combinations are left out, not skipped.
GRID = [case for case in itertools.product([0, 1, 7, 33], [False, True], [None, 1, 4, 32], [False, True], [1, 2, 3],
                                           ["wrap", "drop", "uneven"], [1, 2]) if case[2] is not None or not case[3]]


@pytest.mark.parametrize("n,shuffle,batch,drop,shards,padding,repeat", GRID)
def test_exactly_once_per_epoch(n, shuffle, batch, drop, shards, padding, repeat):
    per_rank = []
    for rank in range(shards):
        ds = tb.Dataset.from_tensor_slices(index_data(n))
        if shuffle:
            ds = ds.shuffle(seed=11)
        ds = ds.shard(shards, rank, padding=padding)
        if batch:
            ds = ds.batch(batch, drop_remainder=drop)
        ds = ds.repeat(repeat).prefetch(2)
        batches = []
        for xb, yb in ds.as_numpy():
            yb = np.atleast_1d(yb)
            if batch and drop:
                assert len(yb) == batch
            batches.append(yb.tolist())
        assert len(batches) == len(ds)
        per_epoch = ds.batches_per_epoch
        per_rank.append([sum(batches[e * per_epoch:(e + 1) * per_epoch], []) for e in range(repeat)])
    if padding != "uneven":
        assert len({len(r[0]) for r in per_rank}) == 1, "every rank runs the same number of steps"
    for e in range(repeat):
        seen = sorted(sum((r[e] for r in per_rank), []))
        if padding == "uneven" and not drop:
            assert seen == list(range(n))
        elif padding in ("drop", "uneven"):
            assert len(seen) == len(set(seen)), "no sample twice"
            assert set(seen) <= set(range(n))
        elif not drop:  # wrap: everything, plus the first samples of the order again
            assert set(seen) == set(range(n))
            assert len(seen) == (-(-n // shards) * shards if n else 0)
        else:  # wrap, then drop_remainder: whole batches of the padded order
            assert set(seen) <= set(range(n))


def test_each_iteration_is_a_new_epoch_and_seeded():
    x, y = index_data(100)
    ds = tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=3).batch(100)
    first, second = (next(iter(ds.as_numpy()))[1].tolist() for _ in range(2))
    assert first != second and sorted(first) == sorted(second) == list(range(100))
    again = tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=3).batch(100)
    assert next(again.as_numpy())[1].tolist() == first
    fixed = tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=3, reshuffle_each_epoch=False).batch(100)
    assert next(fixed.as_numpy())[1].tolist() == next(fixed.as_numpy())[1].tolist()


@pytest.mark.parametrize("threads", [1, 2, 8])
@pytest.mark.parametrize("depth", [0, 1, 3, 16])
@pytest.mark.parametrize("block_bytes", [0, 200, 1 << 18])  # 1 batch, 1-2 batches, a whole epoch per block
def test_order_does_not_depend_on_threads_depth_or_blocks(threads, depth, block_bytes):
    x, y = index_data(1000)
    base = tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=5).batch(7).repeat(2).prefetch(0, block_bytes=0)
    reference = epoch_samples(base.as_numpy())
    ds = tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=5).batch(7).repeat(2)
    ds = ds.prefetch(depth, num_threads=threads, block_bytes=block_bytes)
    assert epoch_samples(ds.as_numpy()) == reference


@pytest.mark.parametrize("block_bytes", [0, 150, 1 << 18])  # 1 batch, 2 batches, an epoch per block
@pytest.mark.parametrize("framework", ["numpy", "torch", "tensors"])
def test_resume_at_every_position(block_bytes, framework, torch):
    x, y = index_data(23)

    def make():
        ds = tb.Dataset.from_tensor_slices({"x": x, "y": y}).shuffle(seed=4).batch(4).repeat(2)
        return ds.prefetch(3, block_bytes=block_bytes)

    def rows(batch):
        return np.asarray(batch["y"]).tolist()

    full = [rows(b) for b in make().as_numpy()]
    assert len(full) == 12
    for k in range(len(full) + 1):
        it = getattr(make(), f"as_{framework}")()
        for _ in range(k):
            next(it)
        assert len(it) == len(full) - k
        saved = it.state()
        assert saved["yielded"] == k and saved["epoch"] == k // 6 and saved["cursor"] == k % 6
        del it
        rest = [rows(b) for b in make().as_numpy(state=saved)]
        assert rest == full[k:], f"resumed after {k} batches"


def test_resume_advances_the_dataset_epoch():
    x, y = index_data(10)
    ds = tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=1).batch(5)
    it = ds.as_numpy()
    next(it)
    saved = it.state()
    fresh = tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=1).batch(5)
    list(fresh.as_numpy(state=saved))
    assert next(fresh.as_numpy())[1].tolist() == next(ds.as_numpy())[1].tolist()  # both at epoch 1


def test_state_from_another_dataset_is_refused():
    x, y = index_data(20)
    it = tb.Dataset.from_tensor_slices((x, y)).batch(4).as_numpy()
    next(it)
    saved = it.state()
    other_x = x.copy()
    other_x[-1, 0] = 99
    with pytest.raises(ValueError, match="another data set"):
        tb.Dataset.from_tensor_slices((other_x, y)).batch(4).as_numpy(state=saved)
    with pytest.raises(ValueError, match="another data set"):
        tb.Dataset.from_tensor_slices((x, y)).batch(5).as_numpy(state=saved)
    with pytest.raises(ValueError, match="shard"):
        tb.Dataset.from_tensor_slices((x, y)).shard(2, 1).batch(4).as_numpy(state={**saved, "num_shards": 2,
                                                                                    "shard_index": 1})
    with pytest.raises(ValueError, match="iterator.state"):
        tb.Dataset.from_tensor_slices((x, y)).batch(4).as_numpy(state={"epoch": 1})


def test_bad_input_gets_clear_errors():
    x, y = index_data(10)
    with pytest.raises(ValueError, match="same first dimension"):
        tb.Dataset.from_tensor_slices((x, y[:9]))
    ds = tb.Dataset.from_tensor_slices((x, y))
    for bad in (0, -2):
        with pytest.raises(ValueError, match="at least 1"):
            ds.batch(bad)
    with pytest.raises(ValueError, match="out of range"):
        ds.shard(2, 2)
    with pytest.raises(ValueError, match="shuffle\\(\\) first"):
        ds.batch(2).shuffle(seed=0)
    with pytest.raises(ValueError, match="explicit seed"):
        ds.shuffle().shard(2, 0)
    with pytest.raises(ValueError, match="keep the batch dimension"):
        next(ds.batch(4).map(lambda a: a[:2], on=0).as_numpy())
    with pytest.raises(ValueError, match="tuple of 2"):
        next(ds.batch(4).map(lambda xy: xy[0]).as_numpy())
    with pytest.raises(ValueError, match="batch\\(\\) first"):
        ds.map(lambda a: a)
    with pytest.raises(TypeError, match="integers"):
        ds.map(tb.ops.one_hot(3), on=0)
    with pytest.raises(ValueError, match="label 5 at flat index 1"):
        list(ds.batch(4).map(tb.ops.one_hot(5), on=1).prefetch(2).as_numpy())


def test_callable_exceptions_propagate_with_traceback():
    x, y = index_data(10)

    def augment(xb):
        raise RuntimeError("augmentation failed")

    it = tb.Dataset.from_tensor_slices((x, y)).batch(4).map(augment, on=0).prefetch(2).as_numpy()
    with pytest.raises(RuntimeError, match="augmentation failed") as info:
        next(it)
    assert any(frame.name == "augment" for frame in traceback.extract_tb(info.value.__traceback__))


def test_native_and_python_maps():
    x = np.arange(24, dtype=np.int32).reshape(4, 2, 3)
    y = np.array([0, 2, 1, 2])
    ds = (tb.Dataset.from_tensor_slices({"x": x, "y": y}).batch(4)
          .map(tb.ops.normalize([1, 2, 3], [2, 2, 2]), on="x")
          .map(tb.ops.permute(1, 0), on="x")
          .map(tb.ops.reshape(-1), on="x")
          .map(tb.ops.one_hot(3), on="y")
          .map(lambda b: {"x": b["x"] * 2, "y": b["y"]})
          .map(tb.ops.cast("float64"), on="x"))
    b = next(ds.as_numpy())
    expected = ((x.astype(np.float32) - [1, 2, 3]) / 2).transpose(0, 2, 1).reshape(4, 6) * 2
    np.testing.assert_allclose(b["x"], expected)
    assert b["x"].dtype == np.float64
    np.testing.assert_array_equal(b["y"], np.eye(3, dtype=np.float32)[y])
    assert ds.element_spec["y"] == ("float32", (3,))


def flips_of(batches) -> dict[int, bool]:
    """Sample index -> whether random_flip reversed it, for samples [i, -i] stored as x[:, 0] = i."""
    out = {}
    for xb, yb in batches:
        xb, yb = np.asarray(xb), np.asarray(yb)
        for row, i in zip(xb, yb):
            assert sorted(row.tolist()) == sorted([float(i), -float(i)])
            out[int(i)] = bool(row[0] != i)
    return out


@pytest.mark.parametrize("threads,depth,block_bytes,batch", [(1, 0, 0, 4), (2, 3, 200, 7), (8, 16, 1 << 18, 32)])
def test_random_ops_draw_per_sample_whatever_the_threads_blocks_or_batches(threads, depth, block_bytes, batch, torch):
    """Random ops draw from (seed, epoch, index) streams: the same flips for any thread count,
    prefetch depth, block size, batch size or framework; new ones each epoch."""
    x, y = index_data(200)

    def make(batch_size):
        return (tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=9).batch(batch_size)
                .map(tb.ops.random_flip(0), on=0))

    reference = make(5).prefetch(0, block_bytes=0)
    first, second = flips_of(reference.as_numpy()), flips_of(reference.as_numpy())
    assert len(first) == 200 and 60 < sum(first.values()) < 140  # p = 0.5
    assert first != second  # the next epoch draws again
    ds = make(batch).prefetch(depth, num_threads=threads, block_bytes=block_bytes)
    assert flips_of(ds.as_torch()) == first
    assert flips_of(ds.as_numpy()) == second


def test_seeded_callables_get_per_sample_seeds():
    x, y = index_data(30)
    seen = {}

    def record(batch, seeds):
        xb, yb = batch
        assert seeds.dtype == np.uint64 and seeds.shape == yb.shape
        for i, s in zip(yb.tolist(), seeds.tolist()):
            seen[i] = s
        return xb, yb

    ds = tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=3).batch(4).map(record, seeded=True)
    list(ds.as_numpy())
    assert seen == {i: tb._ext.sample_seed(3, 0, i) for i in range(30)}
    # after a callable, a native random op is applied in Python with the same seeds
    after = tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=3).batch(4).map(lambda b: b)
    native = tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=3).batch(4)
    flip = tb.ops.random_flip(0)
    assert flips_of(after.map(flip, on=0).as_numpy()) == flips_of(native.map(flip, on=0).as_numpy())
    with pytest.raises(ValueError, match="one seed per sample"):
        flip(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="probability"):
        tb.ops.random_flip(0, p=1.5)
    with pytest.raises(ValueError, match="out of range"):
        tb.Dataset.from_tensor_slices(x).batch(2).map(tb.ops.random_flip(1))
    with pytest.raises(ValueError, match="callables"):
        tb.Dataset.from_tensor_slices(x).batch(2).map(flip, seeded=True)


def test_take_skip_repeat_and_unbatched():
    x, y = index_data(10)
    ds = tb.Dataset.from_tensor_slices((x, y))
    assert [int(b[1]) for b in ds.skip(2).take(3)] == [2, 3, 4]
    assert [b[1].tolist() for b in ds.batch(3).skip(1).take(2).as_numpy()] == [[3, 4, 5], [6, 7, 8]]
    assert len(list(ds.batch(4).repeat().take(7).as_numpy())) == 7
    assert len(ds.batch(4, drop_remainder=True).repeat(3)) == 6
    sample = next(iter(ds))
    assert sample[0].shape == (2,) and sample[1].shape == ()


def test_sources_from_every_framework(torch, tf, jax):
    x, y = index_data(12)
    for source in (torch.from_numpy(x), tf.constant(x), jax.numpy.asarray(x), tb.asarray(x), x[:, ::-1].copy()):
        got = np.concatenate([b for b in tb.Dataset.from_tensor_slices(source).batch(5).as_numpy()])
        np.testing.assert_array_equal(got, np.asarray(source))
    strided = x.T.copy().T  # a Fortran-ordered source: rows are not contiguous
    np.testing.assert_array_equal(next(tb.Dataset.from_tensor_slices(strided).batch(12).as_numpy()), x)


def test_sources_are_borrowed_not_copied():
    x, y = index_data(50)
    ds = tb.Dataset.from_tensor_slices((x, y))
    x[3, 0] = 1234.0  # the data set sees the caller's memory
    assert next(ds.skip(3).take(1).as_numpy())[0][0] == 1234.0


def test_from_npy_memory_maps_and_concatenates(tmp_path):
    x, y = index_data(64)
    for name, a in (("x0", x[:40]), ("x1", x[40:]), ("y0", y[:40]), ("y1", y[40:]), ("x", x), ("y", y)):
        np.save(tmp_path / f"{name}.npy", a)
    ds = tb.Dataset.from_npy(([tmp_path / "x0.npy", tmp_path / "x1.npy"], [tmp_path / "y0.npy", tmp_path / "y1.npy"]))
    assert sorted(sum(epoch_samples(ds.shuffle(seed=0).batch(16).as_numpy()), [])) == list(range(64))
    single = tb.Dataset.from_npy({"x": tmp_path / "x.npy", "y": tmp_path / "y.npy"}).batch(64)
    np.testing.assert_array_equal(next(single.as_numpy())["x"], x)
    np.save(tmp_path / "bad.npy", np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match="same dtype and row shape"):
        tb.Dataset.from_npy([tmp_path / "x0.npy", tmp_path / "bad.npy"])


def test_adapters_yield_each_framework(torch, tf, jax):
    x, y = index_data(40)
    ds = tb.Dataset.from_tensor_slices((x, y)).batch(8).prefetch(2)
    xb, yb = next(ds.as_torch())
    assert isinstance(xb, torch.Tensor) and xb.shape == (8, 2) and yb.dtype == torch.int64
    xb, yb = next(ds.as_tf())
    assert isinstance(xb, tf.Tensor) and tuple(xb.shape) == (8, 2)
    xb, yb = next(ds.as_jax())
    assert isinstance(xb, jax.Array) and yb.dtype == jax.numpy.int32  # narrowed without x64, checked
    unbatched = tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=1)
    for framework in ("numpy", "torch", "tf", "jax", "tensors"):
        samples = list(getattr(unbatched, f"as_{framework}")())
        assert len(samples) == 40 and tuple(samples[0][0].shape) == (2,) and tuple(samples[0][1].shape) == ()
        assert sorted(int(np.asarray(s[1])) for s in samples) == list(range(40)), framework
    loader = torch.utils.data.DataLoader(ds.to_torch(), batch_size=None)
    assert sum(len(b[1]) for b in loader) == 40
    tfds = ds.to_tf_dataset()
    assert tfds.element_spec[0].shape.as_list() == [None, 2]
    assert sum(int(b[1].shape[0]) for b in tfds) == 40


def test_torch_batches_outlive_the_iterator(torch):
    x, y = index_data(64)
    it = tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=2).batch(16).prefetch(4).as_torch()
    kept = [next(it) for _ in range(2)]
    expected = [b[1].clone() for b in kept]
    it.close()
    del it
    gc.collect()
    # Recycled buffers must not be reused while a framework still holds them.
    for _ in tb.Dataset.from_tensor_slices((x, y)).batch(16).prefetch(4).as_torch():
        pass
    for (xb, yb), ref in zip(kept, expected):
        assert torch.equal(yb, ref) and torch.equal(xb[:, 0].long(), yb)


def test_dataset_and_iterator_are_released():
    x, y = index_data(32)
    ds = tb.Dataset.from_tensor_slices((x, y)).batch(8).prefetch(2)
    it = ds.as_numpy()
    ref = weakref.ref(it)
    next(it)
    del it
    gc.collect()
    assert ref() is None


def test_closing_stops_threads_and_exit_does_not_hang():
    script = textwrap.dedent("""
        import numpy as np, tensorbridge as tb
        x = np.zeros((200000, 16), np.float32)
        ds = tb.Dataset.from_tensor_slices(x).shuffle(seed=0).batch(64).repeat().prefetch(8, num_threads=4)
        it = ds.as_numpy(); next(it); it.close()
        assert next(it, None) is None
        live = ds.as_numpy(); next(live)     # left running at interpreter exit
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_auto_sharding_without_a_distributed_runtime_is_one_shard():
    x, y = index_data(10)
    ds = tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=0).shard(distributed="auto").batch(10)
    assert sorted(next(ds.as_numpy())[1].tolist()) == list(range(10))


def test_gather_rows_and_sample_seeds():
    x, _ = index_data(100)
    idx = np.array([5, 1, 99], dtype=np.int64)
    out = tb._ext.empty([3, 2], "float32")
    tb._ext.gather_rows(tb.asarray(x)._c, tb.asarray(idx)._c, out)
    np.testing.assert_array_equal(tb.Tensor._wrap(out).numpy(), x[idx])
    assert tb._ext.sample_seed(0, 0, 1) != tb._ext.sample_seed(0, 1, 0)


def test_from_csv_and_from_dataframe_give_features_and_labels(tmp_path):
    import pandas as pd
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame                      # 4 float features + int target
    frame["species"] = np.array(["setosa", "versicolor", "virginica"])[frame["target"]]
    path = tmp_path / "iris.csv"
    frame.to_csv(path, index=False)
    features = frame.drop(columns=["target", "species"]).to_numpy(np.float32)

    ds = tb.Dataset.from_csv(path, label="species", usecols=[*frame.columns[:4], "species"]).batch(150)
    xb, yb = next(ds.as_numpy())
    np.testing.assert_array_equal(xb, features)
    np.testing.assert_array_equal(yb, frame["target"].to_numpy())   # sorted names: the same codes

    xb, yb = next(tb.Dataset.from_dataframe(frame.drop(columns="species"), label="target").batch(150).as_numpy())
    np.testing.assert_array_equal(xb, features)
    assert yb.dtype == np.int64 and yb.tolist() == frame["target"].tolist()
    cat = frame.drop(columns="target").astype({"species": "category"})
    _, yb = next(tb.Dataset.from_dataframe(cat, label="species").batch(150).as_numpy())
    assert yb.tolist() == frame["target"].tolist()
    only = next(tb.Dataset.from_dataframe(pd.DataFrame({"a": [1, 2]})).batch(2).as_numpy())
    assert only.tolist() == [[1.0], [2.0]]
    with pytest.raises(ValueError, match="no label column 'nope'"):
        tb.Dataset.from_csv(path, label="nope")
    with pytest.raises(ValueError, match="every column is a label"):
        tb.Dataset.from_dataframe(pd.DataFrame({"a": [1]}), label="a")


def test_constructors_point_to_the_factories():
    with pytest.raises(TypeError, match="from_tensor_slices"):
        tb.Dataset()
    with pytest.raises(TypeError, match="read_csv"):
        tb.Table()
