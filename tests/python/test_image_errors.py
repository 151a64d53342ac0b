"""Image files whose header is fine but whose pixel data is damaged (made by Pillow, then damaged
here): without on_error an error naming the file and what is wrong; with on_error="skip" the
same files left out on every run (any thread count, seed), counted in skipped_files."""

from __future__ import annotations

import io
import os
import zlib

import numpy as np
import pytest
import sklearn
from PIL import Image

import tensorbridge as tb

SKLEARN_IMAGES = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "images")


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def damage_scan(jpeg: bytes, where: float, marker: bool) -> bytes:
    """The JPEG with its scan data damaged at `where` (0..1): 16 stuffed 0xFF bytes (128 one bits:
    no valid Huffman code), or an EOI marker inside the scan ("premature end of data segment")."""
    sos = jpeg.index(b"\xff\xda")
    start = sos + 2 + int.from_bytes(jpeg[sos + 2 : sos + 4], "big")
    at = start + int((len(jpeg) - 2 - start) * where)
    data = bytearray(jpeg)
    if marker:
        data[at : at + 2] = b"\xff\xd9"
    else:
        data[at : at + 32] = b"\xff\x00" * 16
    return bytes(data)


def png_with_broken_deflate(png: bytes) -> bytes:
    """The PNG with bytes in the middle of its IDAT data overwritten and the chunk's CRC
    recomputed: every CRC matches, the compressed pixels do not inflate."""
    at = png.index(b"IDAT")
    length = int.from_bytes(png[at - 4 : at], "big")
    payload = bytearray(png[at + 4 : at + 4 + length])
    payload[length // 2 : length // 2 + 16] = b"\xff" * 16
    crc = zlib.crc32(b"IDAT" + payload).to_bytes(4, "big")
    return png[: at + 4] + bytes(payload) + crc + png[at + 8 + length :]


# The damaged files of the folder and what their error says.
BAD = {
    os.path.join("a", "huffman.jpg"): "corrupt JPEG: bad Huffman code",
    os.path.join("a", "marker.jpg"): "corrupt JPEG: premature end of data segment",
    os.path.join("b", "cut.jpg"): "truncated JPEG",
    os.path.join("b", "deflate.png"): "corrupt PNG",
    os.path.join("b", "cut.webp"): "WebP",
}


@pytest.fixture(scope="module")
def damaged(tmp_path_factory) -> tuple[str, list[str]]:
    """root/a and root/b: 4 good 64x48 JPEGs each (tiles of sklearn's china.jpg) and the files of
    BAD. Returns the root and the good files in folder order."""
    root = tmp_path_factory.mktemp("damaged")
    photo = Image.open(os.path.join(SKLEARN_IMAGES, "china.jpg")).convert("RGB")

    def tile(i: int) -> Image.Image:
        return photo.crop((i * 40, i * 25, i * 40 + 64, i * 25 + 48))

    good = []
    for c, cls in enumerate("ab"):
        os.makedirs(root / cls)
        for i in range(4):
            path = root / cls / f"{i}.jpg"
            path.write_bytes(encode(tile(c * 4 + i), "JPEG", quality=90))
            good.append(str(path))
    jpeg = encode(tile(9), "JPEG", quality=90)
    webp = encode(tile(10), "WEBP", quality=80)
    (root / "a" / "huffman.jpg").write_bytes(damage_scan(jpeg, 0.5, marker=False))
    (root / "a" / "marker.jpg").write_bytes(damage_scan(jpeg, 0.6, marker=True))
    (root / "b" / "cut.jpg").write_bytes(jpeg[: len(jpeg) * 3 // 4])
    (root / "b" / "deflate.png").write_bytes(png_with_broken_deflate(encode(tile(11), "PNG")))
    (root / "b" / "cut.webp").write_bytes(webp[: len(webp) * 7 // 10])
    return str(root), good


@pytest.mark.parametrize("name", sorted(BAD))
def test_damaged_file_has_a_good_header_and_fails_its_batch_naming_it(damaged, name):
    root, good = damaged
    path = os.path.join(root, name)
    ds = tb.Dataset.from_files([path, good[0]])  # made from the first file's header: fine
    with pytest.raises(tb.FormatError) as e:
        list(ds.batch(2))
    assert path + ": " in str(e.value) and BAD[name] in str(e.value)
    assert 'on_error="skip"' in str(e.value)


def test_folder_without_skip_fails_on_the_first_damaged_file(damaged):
    root, _ = damaged
    with pytest.raises(tb.FormatError, match=r"huffman\.jpg: corrupt JPEG: bad Huffman code"):
        list(tb.Dataset.from_image_folder(root, extensions=(".jpg", ".png", ".webp")).batch(4))


def run(ds: tb.Dataset, seed: int, threads: int) -> tuple[list[np.ndarray], list[int]]:
    pipe = ds.shuffle(seed=seed).map(tb.ops.random_resized_crop(32), on=0).map(tb.ops.random_flip(1), on=0)
    batches = list(pipe.batch(3).prefetch(2, num_threads=threads))
    return [x for x, _ in batches], sorted(int(v) for _, y in batches for v in y)


def test_skip_leaves_out_the_same_damaged_files_on_every_run(damaged):
    root, good = damaged
    one = tb.Dataset.from_image_folder(root, on_error="skip")
    two = tb.Dataset.from_image_folder(root, on_error="skip")
    expect = [os.path.join(root, n) for n in sorted(BAD)]
    for ds in (one, two):
        assert len(ds) == 8 and len(ds.skipped_files) == len(BAD)
        assert sorted(p for p, _ in ds.skipped_files) == expect
        for path, why in ds.skipped_files:
            assert why.startswith(path + ": ") and BAD[os.path.relpath(path, root)] in why
    images_1, labels_1 = run(one, seed=5, threads=1)
    images_2, labels_2 = run(two, seed=5, threads=2)
    assert len(images_1) == 3 and all(np.array_equal(a, b) for a, b in zip(images_1, images_2))
    assert labels_1 == labels_2 == run(one, seed=6, threads=2)[1] == [0] * 4 + [1] * 4
    # The survivors are exactly the good files, in order, with their pixels.
    everything = next(iter(tb.Dataset.from_image_folder(root, on_error="skip").batch(8)))[0]
    assert np.array_equal(everything, np.stack([tb.to_numpy(tb.read_image(p)) for p in good]))


def test_from_files_skip_keeps_labels_with_their_files(damaged):
    root, good = damaged
    files = [good[0], os.path.join(root, "a", "huffman.jpg"), good[5], os.path.join(root, "b", "cut.webp"), good[7]]
    ds = tb.Dataset.from_files(files, labels=[10, 11, 12, 13, 14], on_error="skip")
    assert [p for p, _ in ds.skipped_files] == [files[1], files[3]]
    images, labels = next(iter(ds.batch(5)))
    assert labels.tolist() == [10, 12, 14]
    assert np.array_equal(images[1], tb.to_numpy(tb.read_image(good[5])))
    with pytest.raises(tb.FormatError, match=r"none of the 2 files decodes.*huffman\.jpg"):
        tb.Dataset.from_files([files[1], files[3]], on_error="skip")
    with pytest.raises(ValueError, match="on_error must be 'raise' or 'skip'"):
        tb.Dataset.from_files(files, on_error="ignore")


def test_skip_progress_bar_is_quiet_for_a_quick_check(damaged, capfd):
    root, _ = damaged
    tb.Dataset.from_image_folder(root, on_error="skip", progress=True)
    assert capfd.readouterr().err == ""


def test_padding_before_the_end_marker_is_not_damage(tmp_path):
    """Bytes between the last scan and EOI ("extraneous bytes before marker 0xd9", which some
    cameras write and some ImageNet files have): every pixel is there, so the file decodes to
    Pillow's pixels, and on_error="skip" keeps it."""
    im = Image.open(os.path.join(SKLEARN_IMAGES, "china.jpg")).convert("RGB").crop((0, 0, 96, 64))
    jpeg = encode(im, "JPEG", quality=90)
    assert jpeg.endswith(b"\xff\xd9")
    padded = jpeg[:-2] + b"\x00" * 240 + b"\xff\xd9"
    path = tmp_path / "c" / "padded.jpg"
    path.parent.mkdir()
    path.write_bytes(padded)
    np.testing.assert_array_equal(tb.to_numpy(tb.read_image(str(path))), np.asarray(Image.open(path).convert("RGB")))
    ds = tb.Dataset.from_image_folder(str(tmp_path), on_error="skip")
    assert len(ds.skipped_files) == 0
