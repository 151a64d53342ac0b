"""Every code snippet of the three tutorials users arrive with (``/work/shared/seeds/000``, ``001``,
``002``), each as the tutorial's own line beside its tensorbridge line: the same dtype and the same
values as the tutorial prints. Where the tutorial's code runs here, its result is the reference.

Steps that need a capability still to come are expected failures (strict: they fail the suite as
soon as they pass, so the marker goes when the capability lands), never skips.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tensorbridge as tb

NEEDS_GPU = pytest.mark.xfail(strict=True, reason="needs a GPU (none on these machines; DESIGN.md: GPU placement, later)")


def same_tf(got, want) -> None:
    """Same TensorFlow dtype, shape and values."""
    assert got.dtype == want.dtype
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def same_torch(got, want) -> None:
    assert got.dtype == want.dtype
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


# ------------------------------------------------------------------------------------------------
# 000: "How can I convert a NumPy array to a TensorFlow tensor?"
# ------------------------------------------------------------------------------------------------


def test_000_basic_conversion(tf):
    numpy_array = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32)
    tensor = tf.convert_to_tensor(numpy_array)  # tutorial
    got = tb.to_tf(numpy_array)  # tensorbridge
    same_tf(got, tensor)
    assert got.dtype == tf.int32  # "Tensor Data Type: <dtype: 'int32'>"


def test_000_explicit_dtype(tf):
    numpy_array_int = np.array([1, 2, 3, 4], dtype=np.int32)
    tensor_float = tf.convert_to_tensor(numpy_array_int, dtype=tf.float32)  # tutorial
    got = tb.to_tf(numpy_array_int, dtype=tf.float32)  # tensorbridge
    same_tf(got, tensor_float)
    assert got.numpy().tolist() == [1.0, 2.0, 3.0, 4.0]


def test_000_batch_of_images(tf):
    numpy_images = np.random.rand(3, 64, 64, 3).astype(np.float32)
    image_tensor = tf.convert_to_tensor(numpy_images)  # tutorial
    got = tb.to_tf(numpy_images)  # tensorbridge
    same_tf(got, image_tensor)
    assert tuple(got.shape) == (3, 64, 64, 3) and got.dtype == tf.float32


def test_000_dataset_from_tensor_slices(tf):
    # "learn how to effectively use tf.data.Dataset.from_tensor_slices()"
    X = np.random.rand(10, 4).astype(np.float32)
    want = [b.numpy() for b in tf.data.Dataset.from_tensor_slices(X).batch(4)]  # tutorial
    got = [b for b in tb.Dataset.from_tensor_slices(X).batch(4)]  # tensorbridge
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


# ------------------------------------------------------------------------------------------------
# 001: "Converting NumPy Arrays to TensorFlow and PyTorch Tensors: A Comprehensive Guide"
# ------------------------------------------------------------------------------------------------


def test_001_tf_convert_to_tensor(tf):
    array = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    tensor = tf.convert_to_tensor(array, dtype=tf.float32)  # tutorial
    same_tf(tb.to_tf(array, dtype=tf.float32), tensor)  # tensorbridge


def test_001_tf_constant(tf):
    array = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    tensor = tf.constant(array)  # tutorial
    same_tf(tb.to_tf(array), tensor)  # tensorbridge


def test_001_dataframe_to_tf(tf, pd):
    df = pd.DataFrame({"A": [1, 2, 3], "B": [4.5, 5.5, 6.5]})
    array = df.to_numpy()  # tutorial: to NumPy (float64), then to a float32 tensor
    tensor = tf.convert_to_tensor(array, dtype=tf.float32)
    got = tb.to_tf(df, dtype=tf.float32)  # tensorbridge: gathered and cast in one pass
    same_tf(got, tensor)
    assert tb.to_numpy(df).dtype == array.dtype == np.float64  # df.to_numpy()'s common type
    np.testing.assert_array_equal(tb.to_numpy(df), array)
    # tf.convert_to_tensor(df) works on the DataFrame too; so does the tensorbridge line
    same_tf(tb.to_tf(df), tf.convert_to_tensor(df))


def test_001_tf_data_batch_shuffle(tf):
    X = np.random.rand(100, 10)
    y = np.random.randint(0, 2, 100)
    dataset = tf.data.Dataset.from_tensor_slices((X, y))  # tutorial
    dataset = dataset.batch(32).shuffle(buffer_size=100)
    want = [(tuple(bx.shape), tuple(by.shape), bx.dtype.as_numpy_dtype, by.dtype.as_numpy_dtype) for bx, by in dataset]
    ds = tb.Dataset.from_tensor_slices((X, y))  # tensorbridge: shuffles samples, then batches
    ds = ds.shuffle(buffer_size=100).batch(32)
    got = [(bx.shape, by.shape, bx.dtype, by.dtype) for bx, by in ds]
    # the same batches (the tutorial shuffles whole batches, so its take(1) is the short one at times)
    def key(batch):
        return (batch[0], batch[1], np.dtype(batch[2]).name, np.dtype(batch[3]).name)

    assert sorted(map(key, got)) == sorted(map(key, want))
    (batch_X, batch_y), = [(bx, by) for bx, by in ds.take(1)]
    assert batch_X.shape == (32, 10) and batch_y.shape == (32,)  # "Output: (32, 10) (32,)"
    # a batch is 32 rows of X with their labels
    rows = {tuple(r): int(label) for r, label in zip(X.tolist(), y.tolist())}
    assert all(rows[tuple(r)] == label for r, label in zip(batch_X.tolist(), batch_y.tolist()))
    # the tutorial's order (shuffle after batch) is refused with the fix, not silently reordered
    with pytest.raises(tb.InvalidValueError, match="call shuffle\\(\\) first"):
        tb.Dataset.from_tensor_slices((X, y)).batch(32).shuffle(buffer_size=100)


def test_001_torch_from_numpy_shares_memory(torch):
    array = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    tensor = torch.from_numpy(array)  # tutorial
    got = tb.to_torch(array)  # tensorbridge
    same_torch(got, tensor)
    array[0, 0] = 99.0  # "modifications to one affect the other"
    assert got.tolist() == tensor.tolist() == [[99.0, 2.0], [3.0, 4.0]]


def test_001_torch_clone(torch):
    array = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    tensor = torch.from_numpy(array).clone()  # tutorial
    got = tb.to_torch(array, copy=True)  # tensorbridge
    same_torch(got, tensor)
    array[0, 0] = 99.0
    assert got[0, 0].item() == tensor[0, 0].item() == 1.0


def test_001_torch_tensor_copies(torch):
    array = np.array([[99.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    tensor = torch.tensor(array)  # tutorial
    got = tb.to_torch(array, copy=True)  # tensorbridge
    same_torch(got, tensor)  # "tensor([[99., 2.], [3., 4.]])"
    array[1, 1] = -1.0
    assert got[1, 1].item() == tensor[1, 1].item() == 4.0


def test_001_torch_to_device_if_available(torch):
    array = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # tutorial
    tensor = torch.from_numpy(array).to(device)
    got = tb.to_torch(array, device=str(device))  # tensorbridge
    assert got.device == tensor.device  # "Output: cuda:0 or cpu"
    same_torch(got.cpu(), tensor.cpu())


@NEEDS_GPU
def test_001_torch_to_cuda(torch):
    array = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    got = tb.to_torch(array, device="cuda")  # tensorbridge for tensor.to('cuda')
    assert str(got.device) == "cuda:0"
    np.testing.assert_array_equal(got.cpu().numpy(), array)


def test_001_dataframe_to_torch(torch, pd):
    df = pd.DataFrame({"A": [1, 2, 3], "B": [4.5, 5.5, 6.5]})
    array = df.to_numpy()  # tutorial
    tensor = torch.from_numpy(array).float()
    got = tb.to_torch(df, dtype="float32")  # tensorbridge
    same_torch(got, tensor)
    assert got.tolist() == [[1.0, 4.5], [2.0, 5.5], [3.0, 6.5]]
    same_torch(tb.to_torch(df), torch.from_numpy(df.to_numpy()))  # without dtype: float64, as df.to_numpy()


def test_001_tensor_dataset_and_dataloader(torch):
    X = np.random.rand(100, 10)
    y = np.random.randint(0, 2, 100)
    X_tensor = torch.from_numpy(X).float()  # tutorial
    y_tensor = torch.from_numpy(y).long()
    dataset = torch.utils.data.TensorDataset(X_tensor, y_tensor)
    dataloader = torch.utils.data.DataLoader(dataset, batch_size=32, shuffle=True)
    want_X, want_y = next(iter(dataloader))
    same_torch(tb.to_torch(X, dtype="float32"), X_tensor)  # tensorbridge
    same_torch(tb.to_torch(y, dtype="int64"), y_tensor)
    ds = tb.Dataset.from_tensor_slices((X, y)).map(tb.ops.cast("float32"), on=0).shuffle(seed=0).batch(32)
    batch_X, batch_y = next(iter(ds.as_torch()))
    assert batch_X.shape == want_X.shape == torch.Size([32, 10])  # "torch.Size([32, 10]) torch.Size([32])"
    assert batch_y.shape == want_y.shape == torch.Size([32])
    assert batch_X.dtype == want_X.dtype and batch_y.dtype == want_y.dtype
    loader = torch.utils.data.DataLoader(ds.to_torch(), batch_size=None)  # in a DataLoader too
    assert sum(len(b[1]) for b in loader) == 100


def test_001_train_keras(tf):
    X = np.random.rand(1000, 10)
    y = np.random.randint(0, 2, 1000)
    X_tensor = tf.convert_to_tensor(X, dtype=tf.float32)  # tutorial
    y_tensor = tf.convert_to_tensor(y, dtype=tf.int32)
    got_X = tb.to_tf(X, dtype=tf.float32)  # tensorbridge
    got_y = tb.to_tf(y, dtype=tf.int32)
    same_tf(got_X, X_tensor)
    same_tf(got_y, y_tensor)
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(10,)),
        tf.keras.layers.Dense(16, activation="relu"),
        tf.keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(got_X, got_y, epochs=5, batch_size=32, verbose=0)
    assert len(history.history["loss"]) == 5 and all(np.isfinite(history.history["loss"]))


def test_001_train_torch(torch):
    X = np.random.rand(1000, 10)
    y = np.random.randint(0, 2, 1000)
    X_tensor = torch.from_numpy(X).float()  # tutorial
    y_tensor = torch.from_numpy(y).float()
    got_X = tb.to_torch(X, dtype="float32")  # tensorbridge
    got_y = tb.to_torch(y, dtype="float32")
    same_torch(got_X, X_tensor)
    same_torch(got_y, y_tensor)

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(10, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1), torch.nn.Sigmoid())
    criterion = torch.nn.BCELoss()
    optimizer = torch.optim.Adam(model.parameters())
    losses = []
    for _epoch in range(5):
        outputs = model(got_X).squeeze()
        loss = criterion(outputs, got_y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert len(losses) == 5 and all(np.isfinite(losses))


def _write_jpeg(path: Path) -> np.ndarray:
    from PIL import Image

    pixels = (np.arange(8 * 6 * 3) * 5 % 256).astype(np.uint8).reshape(8, 6, 3)
    Image.fromarray(pixels).save(path, quality=95)
    return np.asarray(Image.open(path).convert("RGB"))


def test_001_read_image(tmp_path, tf, torch):
    path = tmp_path / "image.jpg"
    decoded = _write_jpeg(path)  # what a decoder gives (RGB, HWC, uint8)
    image = tb.to_numpy(tb.read_image(str(path)))  # tensorbridge for cv2.imread('image.jpg')
    assert image.shape == decoded.shape and image.dtype == np.uint8  # "Shape: (height, width, 3)"
    np.testing.assert_array_equal(image, decoded)


def test_001_image_array_to_tensors(tf, torch):
    image = (np.arange(4 * 5 * 3) % 256).astype(np.uint8).reshape(4, 5, 3)  # as cv2.imread gives
    image = image.astype(np.float32) / 255.0  # tutorial
    tf_tensor = tf.convert_to_tensor(image, dtype=tf.float32)
    pt_tensor = torch.from_numpy(image).permute(2, 0, 1).float()
    same_tf(tb.to_tf(image, dtype=tf.float32), tf_tensor)  # tensorbridge
    got = tb.to_torch(image, dtype="float32").permute(2, 0, 1)
    same_torch(got, pt_tensor)
    assert tuple(got.shape) == (3, 4, 5)  # "torch.Size([3, height, width])"
    # the same layout change inside a pipeline: tb.ops.permute(2, 0, 1)
    batch = next(iter(tb.Dataset.from_tensor_slices(image[None]).map(tb.ops.permute(2, 0, 1)).batch(1).as_torch()))
    same_torch(batch[0], pt_tensor)


CSV = "feature1,feature2,label\n0.5,1,0\n1.5,2,1\n2.5,3,1\n"


@pytest.mark.filterwarnings("ignore:The given NumPy array is not writable:UserWarning")  # the tutorial's from_numpy
def test_001_csv(tmp_path, tf, torch, pd):
    path = tmp_path / "data.csv"
    path.write_text(CSV)
    df = pd.read_csv(path)  # tutorial
    X = df[["feature1", "feature2"]].to_numpy()
    y = df["label"].to_numpy()
    tf_X = tf.convert_to_tensor(X, dtype=tf.float32)
    tf_y = tf.convert_to_tensor(y, dtype=tf.int32)
    pt_X = torch.from_numpy(X).float()
    pt_y = torch.from_numpy(y).long()

    table = tb.read_csv(path)  # tensorbridge
    X_tb = tb.to_numpy(table[["feature1", "feature2"]])
    y_tb = tb.to_numpy(table["label"])
    assert X_tb.dtype == X.dtype and y_tb.dtype == y.dtype
    np.testing.assert_array_equal(X_tb, X)
    np.testing.assert_array_equal(y_tb, y)
    same_tf(tb.to_tf(table[["feature1", "feature2"]], dtype=tf.float32), tf_X)
    same_tf(tb.to_tf(table["label"], dtype=tf.int32), tf_y)
    same_torch(tb.to_torch(table[["feature1", "feature2"]], dtype="float32"), pt_X)
    same_torch(tb.to_torch(table["label"], dtype="int64"), pt_y)
    # the same lines with the pandas DataFrame itself
    same_tf(tb.to_tf(df[["feature1", "feature2"]], dtype=tf.float32), tf_X)
    same_torch(tb.to_torch(df[["feature1", "feature2"]], dtype="float32"), pt_X)
    same_torch(tb.to_torch(df["label"], dtype="int64"), pt_y)


@NEEDS_GPU
def test_001_simulation_on_gpu(torch):
    positions = np.random.rand(1000, 3).astype(np.float32)
    positions_tensor = tb.to_torch(positions, device="cuda")  # torch.from_numpy(positions).to('cuda')
    distances = torch.cdist(positions_tensor, positions_tensor)
    assert distances.shape == torch.Size([1000, 1000])


def test_001_simulation_on_cpu(torch):
    positions = np.random.rand(1000, 3).astype(np.float32)
    positions_tensor = torch.from_numpy(positions)  # tutorial, on the CPU this machine has
    got = tb.to_torch(positions)  # tensorbridge
    same_torch(got, positions_tensor)
    assert torch.cdist(got, got).shape == torch.Size([1000, 1000])


def test_001_dtype_compatibility(tf, torch):
    array = np.random.rand(3, 4)
    array32 = array.astype(np.float32)  # tutorial
    tensor_tf = tf.convert_to_tensor(array32, dtype=tf.float32)
    tensor_pt = torch.from_numpy(array32).float()
    same_tf(tb.to_tf(array, dtype=tf.float32), tensor_tf)  # tensorbridge: the astype is the dtype=
    same_torch(tb.to_torch(array, dtype="float32"), tensor_pt)


@pytest.mark.parametrize("autotune", ["tf", "tb"])
def test_001_prefetch_autotune(tf, autotune):
    X = np.random.rand(100, 10)
    value = tf.data.AUTOTUNE if autotune == "tf" else tb.AUTOTUNE
    dataset = tf.data.Dataset.from_tensor_slices(X).batch(32).prefetch(tf.data.AUTOTUNE)  # tutorial
    ds = tb.Dataset.from_tensor_slices(X).batch(32).prefetch(value)  # tensorbridge
    want = [b.numpy() for b in dataset]
    got = list(ds)
    assert [g.shape for g in got] == [w.shape for w in want] == [(32, 10), (32, 10), (32, 10), (4, 10)]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


def test_001_error_handling(tf, torch):
    array = np.array([[1.0, 2.0], [3.0, 4.0]])
    caught = []
    for convert in (lambda a: tf.convert_to_tensor(a, dtype=tf.float32), lambda a: tb.to_tf(a, dtype=tf.float32)):
        try:
            tensor = convert(array)
        except ValueError as e:  # tutorial's except clause
            caught.append(e)
        else:
            assert tensor.dtype == tf.float32
    assert caught == []
    # bad input: the tutorial's except clauses catch tensorbridge's errors too
    ragged = [[1.0, 2.0], [3.0]]
    with pytest.raises(ValueError):
        tf.convert_to_tensor(ragged, dtype=tf.float32)
    with pytest.raises(ValueError):
        tb.to_tf(ragged, dtype=tf.float32)
    objects = np.array([1, "a"], dtype=object)
    with pytest.raises(TypeError):
        torch.from_numpy(objects)
    with pytest.raises(TypeError):
        tb.to_torch(objects)


def test_001_structured_arrays(tf, torch):
    structured_array = np.array([(1, 23.5), (2, 24.7)], dtype=[("id", int), ("value", float)])
    values = structured_array["value"]  # tutorial
    tf_tensor = tf.convert_to_tensor(values, dtype=tf.float32)
    pt_tensor = torch.from_numpy(values).float()
    same_tf(tb.to_tf(values, dtype=tf.float32), tf_tensor)  # tensorbridge
    same_torch(tb.to_torch(values, dtype="float32"), pt_tensor)
    columns = tb.from_structured(structured_array)  # or every field at once
    same_torch(tb.to_torch(columns["value"], dtype="float32"), pt_tensor)


def test_001_load_from_s3(s3, monkeypatch, tf, torch):
    s3.client().create_bucket(Bucket="my-bucket")
    reference = np.random.rand(4, 3)
    local = Path(s3.folder) / "data.npy"
    np.save(local, reference)
    s3.client().upload_file(str(local), "my-bucket", "data.npy")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3.key)  # the credentials a user has configured
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3.secret)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.endpoint)
    s3.client().download_file("my-bucket", "data.npy", str(local))  # tutorial
    array = np.load(local)
    array_tb = tb.load("s3://my-bucket/data.npy")  # tensorbridge: no local copy
    np.testing.assert_array_equal(np.asarray(array_tb), array)
    same_torch(tb.to_torch(array_tb, dtype="float32"), torch.from_numpy(array).float())


def test_001_load_then_convert(tmp_path, tf, torch):
    np.save(tmp_path / "data.npy", np.random.rand(4, 3))
    array = np.load(tmp_path / "data.npy")  # tutorial (after the download)
    tf_tensor = tf.convert_to_tensor(array, dtype=tf.float32)
    pt_tensor = torch.from_numpy(array).float()
    loaded = tb.load(tmp_path / "data.npy")  # tensorbridge
    same_tf(tb.to_tf(loaded, dtype=tf.float32), tf_tensor)
    same_torch(tb.to_torch(loaded, dtype="float32"), pt_tensor)


def test_001_mixed_precision(tf, torch):
    array = np.random.rand(3, 4)
    policy = tf.keras.mixed_precision.global_policy()
    try:
        tf.keras.mixed_precision.set_global_policy("mixed_float16")  # tutorial
        tensor = tf.convert_to_tensor(array, dtype=tf.float16)
        same_tf(tb.to_tf(array, dtype=tf.float16), tensor)  # tensorbridge
    finally:
        tf.keras.mixed_precision.set_global_policy(policy)
    same_torch(tb.to_torch(array, dtype="float16"), torch.from_numpy(array).half())


@NEEDS_GPU
def test_001_mixed_precision_on_gpu(torch):
    array = np.random.rand(3, 4)
    got = tb.to_torch(array, dtype="float16", device="cuda")  # torch.from_numpy(array).half().to('cuda')
    assert str(got.device) == "cuda:0" and got.dtype == torch.float16


def test_001_back_to_numpy(tf, torch):
    tf_t = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    pt_t = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    tf_array = tf_t.numpy()  # tutorial
    pt_array = pt_t.cpu().numpy()
    for got, want in ((tb.to_numpy(tf_t), tf_array), (tb.to_numpy(pt_t), pt_array)):  # tensorbridge
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------------------------------------
# 002: "Numpy interoperability in TensorFlow - Deep Dive"
# ------------------------------------------------------------------------------------------------


def test_002_numpy_array_to_tensor(tf):
    np_array = np.array([1, 2, 3])
    tf_tensor = tf.convert_to_tensor(np_array)  # tutorial
    same_tf(tb.to_tf(np_array), tf_tensor)  # tensorbridge: int64, as TensorFlow keeps it


def test_002_tf_constant_of_a_list(tf):
    tensor = tf.constant([1, 2, 3])  # tutorial: int32
    same_tf(tb.to_tf([1, 2, 3]), tensor)  # tensorbridge


def test_002_tensor_to_numpy(tf):
    tf_tensor = tf.constant([4, 5, 6])
    np_array = tf_tensor.numpy()  # tutorial
    got = tb.to_numpy(tf_tensor)  # tensorbridge
    assert got.dtype == np_array.dtype == np.int32
    np.testing.assert_array_equal(got, [4, 5, 6])
    plan = tb.explain(tf_tensor, to="numpy")  # "shares memory when possible"
    assert plan.zero_copy


def test_002_numpy_functions_on_tensors(tf):
    tensor = tf.constant([1.0, 2.0, 3.0])
    want = tf.reduce_sum(tensor)  # tutorial: the TensorFlow op, or .numpy() first
    assert np.sum(tb.to_numpy(tensor)) == want.numpy() == np.sum(tensor.numpy())  # tensorbridge


def test_002_eager_constant_of_numpy(tf):
    np_array = np.array([1, 2, 3])
    same_tf(tb.to_tf(np_array), tf.constant(np_array))  # tutorial: tf.constant(np_array)


def test_002_array_from_tensor_is_separate(tf):
    tensor = tf.constant([1.0, 2.0])
    got = tb.to_numpy(tensor)  # "modifying a NumPy array converted from a tensor does not change it"
    assert not got.flags.writeable  # shared memory comes back read-only: it cannot be changed by mistake
    with pytest.raises(ValueError):
        got[0] = 9.0
    copy = tb.to_numpy(tensor, copy=True)
    copy[0] = 9.0
    assert tensor.numpy().tolist() == [1.0, 2.0]


@NEEDS_GPU
def test_002_gpu_tensor_to_numpy(tf):
    with tf.device("/GPU:0"):
        tensor = tf.constant([1.0, 2.0])
    assert "GPU" in tensor.device
    np.testing.assert_array_equal(tb.to_numpy(tensor), [1.0, 2.0])


def test_002_training_loop_keeps_tensors(tf):
    # pitfall 3: no .numpy() per batch; the pipeline hands TensorFlow tensors over directly
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    total = 0.0
    for batch in tb.Dataset.from_tensor_slices(X).batch(4).as_tf():
        assert isinstance(batch, tf.Tensor)
        total += float(tf.reduce_sum(batch))
    assert total == float(X.sum())
