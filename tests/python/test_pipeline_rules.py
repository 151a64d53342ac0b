"""The pipeline's rules live in the C++ core; the Python package reads them from there. These
tests pin what users see of them: the saved state's keys and values, the shard/seed refusal that
survives pickling, the defaults Python takes from C++."""

import inspect
import pickle

import numpy as np
import pandas as pd
import pytest

import tensorbridge as tb
from tensorbridge import _ext


def test_the_saved_state_keeps_its_keys_order_and_value_types():
    ds = tb.Dataset.from_tensor_slices(np.arange(12)).shuffle(seed=2**64 - 1).batch(4).repeat(2)
    it = ds.as_numpy()
    for _ in range(4):
        next(it)
    state = it.state()
    assert list(state) == ["version", "fingerprint", "seed", "epoch", "cursor", "first_epoch", "yielded",
                           "num_shards", "shard_index"]
    assert state["version"] == 1 and state["seed"] == 2**64 - 1
    assert (state["epoch"], state["cursor"], state["yielded"]) == (1, 1, 4)
    assert isinstance(state["fingerprint"], str) and len(state["fingerprint"]) == 16
    assert int(state["fingerprint"], 16) == ds._c.fingerprint
    assert all(type(state[k]) is int for k in state if k != "fingerprint")
    # NumPy integers in a saved dict (e.g. read back from JSON through NumPy) resume too.
    again = {k: (v if isinstance(v, str) else np.int64(v) if k != "seed" else np.uint64(v)) for k, v in state.items()}
    assert [b.tolist() for b in ds.as_numpy(state=again)] == [b.tolist() for b in it]


@pytest.mark.parametrize("state,match", [
    ([("version", 1)], "dict returned by iterator.state"),
    ({"version": 2, "fingerprint": "0"}, r"\(version 1\); got version 2"),
    ({"version": 1, "fingerprint": "0", "seed": 0}, r"state is missing \['epoch', 'cursor'"),
    ({"version": 1, "fingerprint": "zz", **dict.fromkeys(["seed", "epoch", "cursor", "first_epoch", "yielded",
                                                         "num_shards", "shard_index"], 0)},
     "'fingerprint' must be 16 hexadecimal digits"),
])
def test_a_state_that_is_not_a_saved_one_is_refused(state, match):
    with pytest.raises(tb.InvalidValueError, match=match):
        tb.Dataset.from_tensor_slices(np.arange(4)).batch(2).as_numpy(state=state)


def test_a_drawn_seed_refuses_sharding_also_after_unpickling():
    drawn = tb.Dataset.from_tensor_slices(np.arange(10)).shuffle()
    again = pickle.loads(pickle.dumps(drawn))
    assert [b.tolist() for b in again.batch(10)] == [b.tolist() for b in drawn.batch(10)]  # the same drawn seed
    for ds in (drawn, again):
        with pytest.raises(tb.InvalidValueError, match=r"shard\(\) after shuffle\(seed=None\)"):
            ds.shard(2, 0)
    with pytest.raises(tb.InvalidValueError, match=r"shuffle\(seed=None\) on a sharded data set"):
        tb.Dataset.from_tensor_slices(np.arange(10)).shard(2, 1).shuffle()


def test_defaults_are_the_cpp_cores():
    depth, _, block_bytes = _ext.PREFETCH_DEFAULTS
    assert inspect.signature(tb.Dataset.prefetch).parameters["buffer_size"].default == depth == 2
    assert inspect.signature(tb.Dataset.prefetch).parameters["block_bytes"].default == block_bytes == 1 << 18
    assert inspect.signature(tb.load).parameters["max_header_size"].default == _ext.NpyLoadOptions().max_header_size
    csv = inspect.signature(tb.read_csv).parameters
    cpp = _ext.CsvOptions()
    assert (csv["sep"].default, csv["quotechar"].default, csv["decimal"].default, csv["encoding"].default) == (
        cpp.sep, cpp.quotechar, cpp.decimal, cpp.encoding) == (",", '"', ".", "utf-8")


def test_labels_of_text_sort_by_code_point(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x,y\n1,\u00e9t\u00e9\n2,zoo\n3,Ab\n4,zoo\n", encoding="utf-8")
    _, y = next(iter(tb.Dataset.from_csv(path, label="y").batch(4)))
    assert y.dtype == np.int64 and y.tolist() == [2, 1, 0, 1]
    path.write_text("x,y\n1,a\n2,\n", encoding="utf-8")
    with pytest.raises(tb.InvalidValueError, match="from_csv: label column 'y' has missing values"):
        tb.Dataset.from_csv(path, label="y")


@pytest.mark.parametrize("make,expected", [
    (lambda ds: ds.repeat(3), 15), (lambda ds: ds.repeat(3).take(4), 4), (lambda ds: ds.repeat().take(7), 7),
])
def test_len_counts_take_after_repeat(make, expected, tf):
    # len() once multiplied epochs by batches per epoch and ignored take() after repeat().
    ds = make(tb.Dataset.from_tensor_slices(np.arange(10)).batch(2))
    assert len(ds) == expected == len(list(ds))
    assert int(ds.to_tf_dataset().cardinality()) == expected


def test_fill_value_of_a_table_data_set_must_be_a_number():
    frame = pd.DataFrame({"a": [1, 2], "b": pd.array([None, 4], dtype="Int64")})
    with pytest.raises(tb.DTypeError, match="from_dataframe: fill_value must be a number"):
        tb.Dataset.from_dataframe(frame, label="b", fill_value="x")
    _, y = next(iter(tb.Dataset.from_dataframe(frame, label="b", fill_value=-1).batch(2)))
    assert y.dtype == np.int64 and y.tolist() == [-1, 4]
