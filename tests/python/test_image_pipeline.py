"""Native image ops against Pillow (resize), torchvision's sampling rules (random_resized_crop),
fused == unfused, and the image-file data sets (from_image_folder / from_files)."""

from __future__ import annotations

import glob
import math
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import sklearn
from PIL import Image

import tensorbridge as tb

SKLEARN_IMAGES = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "images")
MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


@pytest.fixture(scope="module")
def china() -> np.ndarray:
    return np.asarray(Image.open(os.path.join(SKLEARN_IMAGES, "china.jpg")).convert("RGB"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> str:
    """Two classes of 500x375 JPEGs (and a 240x180 one) cut from sklearn's photographs."""
    root = tmp_path_factory.mktemp("folder")
    for cls, name in [("china", "china.jpg"), ("flower", "flower.jpg")]:
        os.makedirs(root / cls)
        im = Image.open(os.path.join(SKLEARN_IMAGES, name)).convert("RGB")
        for i in range(6):
            im.crop((i * 20, i * 9, i * 20 + 500, i * 9 + 375)).save(root / cls / f"{i}.jpg", quality=90)
    return str(root)


@pytest.mark.parametrize("size", [(224, 224), (100, 333), (427, 640), (500, 700), (13, 7), (427, 300)])
def test_resize_equals_pillow_bilinear(china, size):
    got = tb.ops.resize(size)(china[None]).numpy()[0]
    expect = np.asarray(Image.fromarray(china).resize((size[1], size[0]), Image.BILINEAR))
    assert np.abs(got.astype(int) - expect).max() <= 1
    assert np.array_equal(got, expect)  # in fact bit-exact: Pillow's arithmetic


def test_resize_shorter_side_and_center_crop_follow_torchvision(china):
    assert tb.ops.resize(256)(china[None]).shape == (1, 256, int(256 * 640 / 427), 3)
    crop = tb.ops.center_crop((100, 200))(china[None]).numpy()[0]
    top, left = round((427 - 100) / 2), round((640 - 200) / 2)
    assert np.array_equal(crop, china[top : top + 100, left : left + 200])
    with pytest.raises(ValueError, match="resize it first"):
        tb.ops.center_crop(500)(china[None])


def test_random_resized_crop_boxes_follow_torchvision_rules():
    from tensorbridge import _ext

    areas, ratios, fallbacks = [], [], 0
    for seed in range(3000):
        b = _ext.random_resized_crop_box(375, 500, seed, 0.08, 1.0, 3 / 4, 4 / 3)
        assert 0 <= b.top <= 375 - b.height and 0 <= b.left <= 500 - b.width
        areas.append(b.height * b.width / (375 * 500))
        ratios.append(b.width / b.height)
    areas, ratios = np.array(areas), np.array(ratios)
    # torchvision draws the area fraction uniformly in [0.08, 1] and log(ratio) uniformly in
    # [log 3/4, log 4/3], rejecting boxes that do not fit: accepted areas are below 1, and the
    # mean accepted fraction is about 0.45 for a 4:3 image.
    assert areas.min() >= 0.07 and areas.max() <= 1.0
    assert 0.38 < areas.mean() < 0.52
    assert np.abs(np.log(ratios)).max() <= math.log(4 / 3) + 0.02
    # An impossible ratio range always falls back to the central crop of the closest ratio.
    b = _ext.random_resized_crop_box(100, 400, 5, 0.9, 1.0, 1.0, 1.0)
    assert (b.top, b.left, b.height, b.width) == (0, 150, 100, 100)


def test_random_resized_crop_op_is_crop_then_pillow_resize(china):
    from tensorbridge import _ext

    out = tb.ops.random_resized_crop(64)(china[None], seeds=[7]).numpy()[0]
    b = _ext.random_resized_crop_box(427, 640, 7, 0.08, 1.0, 3 / 4, 4 / 3)
    crop = Image.fromarray(china).crop((b.left, b.top, b.left + b.width, b.top + b.height))
    assert np.array_equal(out, np.asarray(crop.resize((64, 64), Image.BILINEAR)))


@pytest.fixture(scope="module")
def big_folder(tmp_path_factory) -> str:
    """8 JPEGs of 640x427 (sklearn's two photographs, mirrored and turned): crops of them are
    mostly over twice a 48 or 100 pixel output, where DCT scaling would decode at 1/2-1/8 scale."""
    root = tmp_path_factory.mktemp("big")
    os.makedirs(root / "x")
    for name in ["china.jpg", "flower.jpg"]:
        im = Image.open(os.path.join(SKLEARN_IMAGES, name)).convert("RGB")
        for k, t in enumerate([None, Image.FLIP_LEFT_RIGHT, Image.FLIP_TOP_BOTTOM, Image.ROTATE_180]):
            (im if t is None else im.transpose(t)).save(root / "x" / f"{name[:-4]}{k}.jpg", quality=90)
    return str(root)


def unfused_and_fused(folder, size=96, epochs=1, **kw):
    """Batches of decode -> random_resized_crop(size) -> random_flip as separate ops on decoded
    images, and fused with the decode of the files (``kw``: from_image_folder's options)."""
    files = sorted(glob.glob(os.path.join(folder, "*", "*.jpg")))
    images = np.stack([tb.to_numpy(tb.read_image(p)) for p in files])
    ops = [tb.ops.random_resized_crop(size), tb.ops.random_flip(1)]
    unfused = tb.Dataset.from_tensor_slices(images).shuffle(seed=3)
    fused = tb.Dataset.from_image_folder(folder, **kw).shuffle(seed=3)
    for op in ops:
        unfused, fused = unfused.map(op), fused.map(op, on=0)
    unfused, fused = unfused.batch(5), fused.batch(5)
    u, f = [], []
    for _ in range(epochs):  # each iteration is the next epoch: new crops
        u += list(unfused)
        f += [x for x, _ in fused]
    return u, f


def test_fused_equals_unfused_within_one_level(folder):
    unfused, fused = unfused_and_fused(folder)
    assert len(unfused) == len(fused) == 3
    for u, f in zip(unfused, fused):
        assert u.shape == f.shape == (u.shape[0], 96, 96, 3)
        assert np.abs(u.astype(int) - f).max() <= 1


@pytest.mark.parametrize("size", [48, 100])
def test_fused_default_is_within_one_level_on_many_crops(big_folder, size):
    unfused, fused = unfused_and_fused(big_folder, size=size, epochs=3)
    assert len(fused) == 6 and sum(len(f) for f in fused) == 24
    assert max(int(np.abs(u.astype(int) - f).max()) for u, f in zip(unfused, fused)) <= 1


def test_fused_with_dct_scaling_is_close_but_not_within_one_level(big_folder):
    unfused, fused = unfused_and_fused(big_folder, size=48, epochs=3, dct_scaling=True)
    diff = np.concatenate([np.abs(u.astype(int) - f).ravel() for u, f in zip(unfused, fused)])
    assert diff.mean() < 1.5
    assert diff.max() > 1  # the documented difference of the opt-in


def pipeline(folder, **kw):
    ds = tb.Dataset.from_image_folder(folder, **kw).shuffle(seed=0)
    ds = ds.map(tb.ops.random_resized_crop(64), on=0).map(tb.ops.random_flip(1), on=0)
    return ds.map(tb.ops.normalize(MEAN, STD), on=0).map(tb.ops.permute(2, 0, 1), on=0).batch(4)


def test_image_folder_pipeline_shapes_labels_and_classes(folder):
    ds = pipeline(folder)
    assert ds.class_names == ["china", "flower"]
    assert ds.element_spec == (("float32", (3, 64, 64)), ("int64", ()))
    labels = []
    for xb, yb in ds:
        assert xb.dtype == np.float32 and xb.shape[1:] == (3, 64, 64)
        assert yb.dtype == np.int64
        labels += yb.tolist()
    assert sorted(labels) == [0] * 6 + [1] * 6
    assert abs(float(np.mean(xb))) < 2.0  # normalized


def test_fused_normalize_and_layout_equal_the_batch_ops(folder):
    base = tb.Dataset.from_image_folder(folder).shuffle(seed=1).map(tb.ops.random_resized_crop(32), on=0)
    fused = base.map(tb.ops.normalize(MEAN, STD), on=0).map(tb.ops.permute(2, 0, 1), on=0).batch(12)
    plain = next(iter(base.batch(12)))[0]
    expect = tb.ops.permute(2, 0, 1)(tb.ops.normalize(MEAN, STD)(plain)).numpy()
    assert np.array_equal(next(iter(fused))[0], expect)


def test_same_batches_for_any_thread_count(folder):
    one = [x for x, _ in pipeline(folder).prefetch(2, num_threads=1)]
    two = [x for x, _ in pipeline(folder).prefetch(4, num_threads=2)]
    assert len(one) == 3 and all(np.array_equal(a, b) for a, b in zip(one, two))


def test_torch_iteration_and_pickle(folder, torch):
    ds = pipeline(folder)
    xb, yb = next(iter(ds.as_torch()))
    assert isinstance(xb, torch.Tensor) and xb.shape == (4, 3, 64, 64) and yb.dtype == torch.int64
    again = pickle.loads(pickle.dumps(pipeline(folder)))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(pipeline(folder), again))


def test_different_sizes_need_a_size_fixing_op(folder, tmp_path):
    small = Image.open(os.path.join(SKLEARN_IMAGES, "flower.jpg")).convert("RGB").resize((240, 180))
    small.save(tmp_path / "small.jpg")
    files = sorted(glob.glob(os.path.join(folder, "china", "*.jpg"))) + [str(tmp_path / "small.jpg")]
    ds = tb.Dataset.from_files(files, labels=list(range(len(files)))).batch(len(files))
    with pytest.raises(ValueError, match=r"small\.jpg.*add tb\.ops\.resize\(\(h, w\)\)"):
        next(iter(ds))
    fixed = tb.Dataset.from_files(files).map(tb.ops.resize((50, 60))).batch(len(files))
    assert next(iter(fixed)).shape == (len(files), 50, 60, 3)


def test_from_files_without_labels_gives_images(folder):
    files = sorted(glob.glob(os.path.join(folder, "*", "*.jpg")))[:2]
    batch = next(iter(tb.Dataset.from_files(files).batch(2)))
    assert np.array_equal(batch[1], tb.to_numpy(tb.read_image(files[1])))


def test_bad_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="no class folders"):
        tb.Dataset.from_image_folder(tmp_path)
    os.makedirs(tmp_path / "cat")
    (tmp_path / "cat" / "notes.txt").write_text("x")
    with pytest.raises(FileNotFoundError, match=r"cat has no images"):
        tb.Dataset.from_image_folder(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a directory"):
        tb.Dataset.from_image_folder(tmp_path / "missing")


def test_on_error_skip_is_deterministic_and_reported(folder, tmp_path):
    root = tmp_path / "data"
    for cls in ["a", "b"]:
        os.makedirs(root / cls)
        for i, src in enumerate(sorted(glob.glob(os.path.join(folder, "china", "*.jpg")))[:3]):
            (root / cls / f"{i}.jpg").write_bytes(Path(src).read_bytes())
    (root / "a" / "broken.jpg").write_bytes(b"GIF89a not really")
    (root / "b" / "empty.png").write_bytes(b"")
    with pytest.raises(ValueError, match=r"broken\.jpg: unsupported image format GIF"):
        list(tb.Dataset.from_image_folder(root).batch(7))
    ds = tb.Dataset.from_image_folder(root, on_error="skip")
    assert len(ds.skipped_files) == 2 and ds.skipped_files[0][0].endswith("broken.jpg")
    assert "empty file" in ds.skipped_files[1][1]
    assert sum(len(y) for _, y in ds.batch(4)) == 6
