"""The pipeline under bad input and failing callables: clear errors, exact state, nothing skipped."""

from __future__ import annotations

import numpy as np
import pytest

import tensorbridge as tb


def test_map_raising_stop_iteration_is_a_runtime_error_not_the_end_of_the_epoch():
    """PEP 479: StopIteration escaping a callable must not pass for the end of the iteration."""

    def stop_at_batch_2(b):
        if b[0] == 20:
            raise StopIteration
        return b

    for on in (None, 0):
        ds = tb.Dataset.from_tensor_slices(np.arange(50)).batch(10).map(stop_at_batch_2, on=on)
        it = ds.as_numpy()
        assert [b[0] for b in (next(it), next(it))] == [0, 10]
        with pytest.raises(RuntimeError, match="raised StopIteration") as info:
            next(it)
        assert isinstance(info.value, tb.TensorbridgeError) and isinstance(info.value.__cause__, StopIteration)
        with pytest.raises(RuntimeError, match="stop_at_batch_2"):
            list(ds.as_numpy())


PREFETCH = [(0, None, 0), (0, None, 1 << 18), (2, 1, 0), (3, 2, 200), (4, 4, 1 << 18)]


@pytest.mark.parametrize("depth,threads,block_bytes", PREFETCH)
@pytest.mark.parametrize("framework", ["numpy", "torch", "tensors"])
def test_a_failing_map_leaves_the_iterator_at_the_failed_batch(depth, threads, block_bytes, framework, torch):
    """The iterator neither skips the failed batch nor ends: the next next() makes it again
    (raising again while the failure lasts), and state() counts only the batches delivered."""
    failures = []

    def flaky(b):  # batch 5 fails twice, then succeeds
        if int(np.asarray(b)[0]) == 50 and len(failures) < 2:
            failures.append(1)
            raise OSError("batch 5 failed")
        return b

    def make(fn):
        ds = tb.Dataset.from_tensor_slices(np.arange(100)).batch(10).map(fn)
        return ds.prefetch(depth, num_threads=threads, block_bytes=block_bytes)

    def firsts(batches):
        return [int(np.asarray(b)[0]) for b in batches]

    it = getattr(make(flaky), f"as_{framework}")()
    assert firsts(next(it) for _ in range(5)) == [0, 10, 20, 30, 40]
    for _ in range(2):
        with pytest.raises(OSError, match="batch 5 failed"):
            next(it)
        state = it.state()
        assert (state["yielded"], state["epoch"], state["cursor"], len(it)) == (5, 0, 5, 5)
    assert firsts(it) == [50, 60, 70, 80, 90]
    # the state saved after the error resumes with exactly the batches that were left
    assert firsts(make(lambda b: b).as_numpy(state=state)) == [50, 60, 70, 80, 90]


@pytest.mark.parametrize("depth,threads,block_bytes", PREFETCH)
def test_a_lasting_failure_raises_on_every_next(depth, threads, block_bytes):
    labels = np.arange(100) % 10
    labels[55] = 12  # native one_hot fails on batch 5
    native = tb.Dataset.from_tensor_slices(labels).batch(10).map(tb.ops.one_hot(10))

    def fails_on_50(b):
        if b[0] == 50:
            raise KeyError("no batch 50")
        return b

    python = tb.Dataset.from_tensor_slices(np.arange(100)).batch(10).map(fails_on_50)
    for ds, error, match in ((native, ValueError, "label 12"), (python, KeyError, "no batch 50")):
        it = ds.prefetch(depth, num_threads=threads, block_bytes=block_bytes).as_numpy()
        for _ in range(5):
            next(it)
        for _ in range(3):
            with pytest.raises(error, match=match):
                next(it)
            assert it.state()["yielded"] == 5 and len(it) == 5


@pytest.mark.parametrize("size", [11, 2**31, 2**60, 2**63 - 1])
@pytest.mark.parametrize("depth", [0, 2])
def test_a_batch_larger_than_the_data_set_is_one_short_batch_as_in_tf_data(size, depth, tf):
    """Memory follows the samples actually batched, never the batch size asked for."""
    x = np.arange(10)
    expected = [b.tolist() for b in tf.data.Dataset.from_tensor_slices(x).batch(min(size, 2**62)).as_numpy_iterator()]
    assert expected == [list(range(10))]
    ds = tb.Dataset.from_tensor_slices(x).shuffle(seed=1).batch(size).prefetch(depth)
    assert len(ds) == 1 and [sorted(b.tolist()) for b in ds] == expected
    repeated = ds.repeat(3)
    assert len(repeated) == 3 and [len(b) for b in repeated] == [10, 10, 10]
    dropped = tb.Dataset.from_tensor_slices(x).batch(size, drop_remainder=True).prefetch(depth)
    assert len(dropped) == 0 and list(dropped) == []
    sharded = tb.Dataset.from_tensor_slices(x).shard(3, 2, padding="uneven").batch(size).prefetch(depth)
    assert [b.tolist() for b in sharded] == [[2, 5, 8]]


def test_huge_counts_do_not_overflow():
    ds = tb.Dataset.from_tensor_slices(np.arange(10)).batch(3)
    assert [b.tolist() for b in ds.skip(2**62).skip(2**62)] == []
    assert [b.tolist() for b in ds.take(2**63 - 1)] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert [b.tolist() for b in ds.repeat(2**62).repeat(4).take(5)][-1] == [0, 1, 2]
    sharded = tb.Dataset.from_tensor_slices(np.arange(10)).shard(2**62, 1).batch(3).prefetch(2)
    assert [b.tolist() for b in sharded] == [[1]]


def test_prefetch_holds_what_it_makes_not_what_it_may_make():
    ds = tb.Dataset.from_tensor_slices(np.arange(10)).batch(2)
    assert [b.tolist() for b in ds.prefetch(10**9)] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    assert [b.tolist() for b in ds.prefetch(10**9, block_bytes=2**62)] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    with pytest.raises(tb.InvalidValueError, match=r"num_threads .*\[1, 1024\].*100000"):
        ds.prefetch(4, num_threads=10**5)


def saved_state(ds, batches=2):
    it = ds.as_numpy()
    for _ in range(batches):
        next(it)
    return it.state()


def test_resuming_into_another_seed_is_refused():
    x = np.arange(40)
    state = saved_state(tb.Dataset.from_tensor_slices(x).shuffle(seed=1).batch(4))
    with pytest.raises(tb.InvalidValueError, match=r"'seed' is 1, expected 2.*shuffle\(seed=1\)"):
        tb.Dataset.from_tensor_slices(x).shuffle(seed=2).batch(4).as_numpy(state=state)
    # the same seed resumes; a data set without shuffle has seed 0 and refuses a state of seed 1
    assert len(list(tb.Dataset.from_tensor_slices(x).shuffle(seed=1).batch(4).as_numpy(state=state))) == 8
    with pytest.raises(tb.InvalidValueError, match="seed"):
        tb.Dataset.from_tensor_slices(x).batch(4).as_numpy(state={**saved_state(tb.Dataset.from_tensor_slices(x)
                                                                                .batch(4)), "seed": 1})


@pytest.mark.parametrize("field,value,expected", [
    ("cursor", -5, "2"), ("cursor", 3, "2"), ("epoch", 7, "0"), ("epoch", -1, "0"),
    ("yielded", -1, r"0 to 10"), ("yielded", 11, r"0 to 10"), ("first_epoch", -3, ">= 0"),
    ("num_shards", 2, "1"), ("shard_index", 1, "0"), ("fingerprint", "0" * 16, "[0-9a-f]{16}"),
])
def test_a_forged_state_is_refused_naming_the_field(field, value, expected):
    ds = tb.Dataset.from_tensor_slices(np.arange(40)).shuffle(seed=1).batch(4)
    state = {**saved_state(ds), field: value}
    with pytest.raises(tb.InvalidValueError, match=rf"'{field}' is {value}, expected {expected}"):
        ds.as_numpy(state=state)


def test_a_consistent_state_in_a_later_epoch_resumes():
    ds = tb.Dataset.from_tensor_slices(np.arange(40)).shuffle(seed=1).batch(4).repeat(3)
    state = saved_state(ds, 13)
    assert (state["epoch"], state["cursor"], state["yielded"]) == (1, 3, 13)
    assert len(list(ds.as_numpy(state=state))) == 17


def _ds():
    return tb.Dataset.from_tensor_slices(np.arange(10))


# (call, error class, what the message must name): out-of-range and wrong-type integers of every
# pipeline stage; none may surface as the binding's "incompatible function arguments".
BAD_INTEGERS = [
    (lambda: _ds().shuffle(seed=2**70), tb.InvalidValueError, r"shuffle: seed .*\[0, 2\*\*64 - 1\].*2\*\*70|1180591620717411303424"),
    (lambda: _ds().shuffle(seed=-1), tb.InvalidValueError, r"shuffle: seed .*\[0, 2\*\*64 - 1\]"),
    (lambda: _ds().shuffle(seed=1.5), tb.DTypeError, r"shuffle: seed must be an integer.*float"),
    (lambda: _ds().shuffle(seed=0, buffer_size=0), tb.InvalidValueError, r"shuffle: buffer_size must be .*>= 1"),
    (lambda: _ds().shuffle(seed=0, buffer_size=2**64), tb.InvalidValueError, r"shuffle: buffer_size must be"),
    (lambda: _ds().shuffle(seed=0, buffer_size="big"), tb.DTypeError, r"shuffle: buffer_size must be an integer"),
    (lambda: _ds().batch(2**64), tb.InvalidValueError, r"batch: batch_size must be .*\[1, 2\*\*63 - 1\]"),
    (lambda: _ds().batch(-(2**64)), tb.InvalidValueError, r"batch: batch_size must be .*\[1, 2\*\*63 - 1\]"),
    (lambda: _ds().batch(0), tb.InvalidValueError, r"batch: batch_size must be at least 1"),
    (lambda: _ds().batch(2.0), tb.DTypeError, r"batch: batch_size must be an integer"),
    (lambda: _ds().batch(True), tb.DTypeError, r"batch: batch_size must be an integer.*bool"),
    (lambda: _ds().take(2**63), tb.InvalidValueError, r"take: count must be .*2\*\*63 - 1"),
    (lambda: _ds().take(-2), tb.InvalidValueError, r"take: count must be -1 \(all\) or >= 0"),
    (lambda: _ds().take(1.5), tb.DTypeError, r"take: count must be an integer"),
    (lambda: _ds().skip(2**63), tb.InvalidValueError, r"skip: count must be .*2\*\*63 - 1"),
    (lambda: _ds().skip(-1), tb.InvalidValueError, r"skip: count must be >= 0"),
    (lambda: _ds().skip("3"), tb.DTypeError, r"skip: count must be an integer"),
    (lambda: _ds().repeat(-2), tb.InvalidValueError, r"repeat: count must be -1 \(forever\) or >= 0"),
    (lambda: _ds().repeat(2**63), tb.InvalidValueError, r"repeat: count must be .*2\*\*63 - 1"),
    (lambda: _ds().repeat(2.5), tb.DTypeError, r"repeat: count must be an integer"),
    (lambda: _ds().shard(0, 0), tb.InvalidValueError, r"shard: num_shards must be at least 1"),
    (lambda: _ds().shard(2**64, 0), tb.InvalidValueError, r"shard: num_shards must be .*\[1, 2\*\*63 - 1\]"),
    (lambda: _ds().shard(2, -1), tb.InvalidValueError, r"shard: index -1 is out of range.*\[0, 1\]"),
    (lambda: _ds().shard(2, 2**64), tb.InvalidValueError, r"shard: index must be .*\[0, num_shards - 1\]"),
    (lambda: _ds().shard(2, 1.0), tb.DTypeError, r"shard: index must be an integer"),
    (lambda: _ds().prefetch(-5), tb.InvalidValueError, r"prefetch: buffer_size \(depth\) must be >= 0"),
    (lambda: _ds().prefetch(2**63), tb.InvalidValueError, r"prefetch: buffer_size must be .*2\*\*63 - 1"),
    (lambda: _ds().prefetch(2.5), tb.DTypeError, r"prefetch: buffer_size must be an integer"),
    (lambda: _ds().prefetch(2, num_threads=2**64), tb.InvalidValueError, r"prefetch: num_threads must be .*1024"),
    (lambda: _ds().prefetch(2, num_threads=-2), tb.InvalidValueError, r"prefetch: num_threads must be in \[1, 1024\]"),
    (lambda: _ds().prefetch(2, num_threads="2"), tb.DTypeError, r"prefetch: num_threads must be an integer"),
    (lambda: _ds().prefetch(2, block_bytes=-1), tb.InvalidValueError, r"prefetch: block_bytes must be >= 0"),
    (lambda: _ds().prefetch(2, block_bytes=2**63), tb.InvalidValueError, r"prefetch: block_bytes must be"),
    (lambda: tb.ops.one_hot(2**70), tb.InvalidValueError, r"one_hot: depth must be an integer in \[1, 2\*\*63 - 1\]"),
    (lambda: tb.ops.one_hot(1.5), tb.DTypeError, r"one_hot: depth must be an integer"),
    (lambda: tb.ops.one_hot(0), tb.InvalidValueError, r"one_hot: depth must be at least 1"),
    (lambda: tb.ops.random_flip(2**70), tb.InvalidValueError, r"random_flip: axis must be"),
    (lambda: tb.ops.random_flip(0, p="x"), tb.DTypeError, r"random_flip: p must be a number"),
    (lambda: tb.ops.permute(2**70), tb.InvalidValueError, r"permute: axes must be"),
    (lambda: tb.ops.reshape(2**64), tb.InvalidValueError, r"reshape: shape must be"),
    (lambda: tb.ops.reshape("a"), tb.DTypeError, r"reshape: shape must be an integer"),
    (lambda: tb.ops.normalize("a", 1), tb.DTypeError, r"normalize: mean must be a number"),
]


@pytest.mark.parametrize("call,error,match", BAD_INTEGERS)
def test_bad_integer_arguments_name_the_argument_and_its_range(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert isinstance(info.value, tb.TensorbridgeError)
    assert isinstance(info.value, ValueError if error is tb.InvalidValueError else TypeError)
    assert "incompatible function arguments" not in str(info.value)


@pytest.mark.parametrize("field,value,error", [("seed", 2**70, tb.InvalidValueError), ("yielded", 2**63, tb.InvalidValueError),
                                               ("cursor", "2", tb.DTypeError), ("epoch", 1.0, tb.DTypeError)])
def test_bad_state_values_name_the_field(field, value, error):
    ds = tb.Dataset.from_tensor_slices(np.arange(40)).shuffle(seed=1).batch(4)
    with pytest.raises(error, match=f"'{field}'"):
        ds.as_numpy(state={**saved_state(ds), field: value})


def test_numpy_integers_are_integers():
    ds = _ds().shuffle(seed=np.uint64(2**64 - 1)).batch(np.int32(4)).take(np.int64(2)).prefetch(np.int8(2))
    assert len(list(ds)) == 2


def _leaves(element):
    if isinstance(element, dict):
        return {k: _leaves(v) for k, v in element.items()}
    if isinstance(element, tuple):
        return tuple(_leaves(v) for v in element)
    a = np.asarray(element)
    return a.dtype.name, a.shape, a.tolist()


@pytest.mark.parametrize("data", [
    [1, 2, 3], [1.5, 2.5], [True, False], [1, 2.5], [2**40, 1], [-(2**31), 2**31 - 1], [[1, 2], [3, 4]],
    [[1.0], [2.0], [3.0]], ([1, 2], [3.0, 4.0]), {"a": [1, 2], "b": [[1.0], [2.0]]}, (np.arange(3), [7, 8, 9]),
    [np.float64(0.5), np.float64(1.5)], [np.int16(1), np.int16(2)], [np.uint64(2**40), 3], [1, np.float64(2.5)],
    [np.float16(1), np.float16(2)], [[np.float32(1)], [np.float32(2)]], [True, np.bool_(False)],
], ids=repr)
def test_python_lists_are_slices_as_in_tf_data(data, tf):
    expected = [_leaves(e) for e in tf.data.Dataset.from_tensor_slices(data).as_numpy_iterator()]
    ds = tb.Dataset.from_tensor_slices(data)
    assert [_leaves(e) for e in ds.as_numpy()] == expected
    assert len(ds) == len(expected)


def test_a_list_of_arrays_is_refused_with_what_to_pass_instead():
    x, y = np.zeros((4, 2)), np.arange(4)
    with pytest.raises(tb.InvalidValueError, match=r"a tuple \(x, y\).*np.stack"):
        tb.Dataset.from_tensor_slices([x, y])
    with pytest.raises(tb.InvalidValueError, match="ragged"):
        tb.Dataset.from_tensor_slices([[1, 2], [3]])
    with pytest.raises(tb.InvalidValueError, match="0-d"):
        tb.Dataset.from_tensor_slices(5)
