"""tensorbridge's .npy/.npz readers and writers against real NumPy files, both directions."""

from __future__ import annotations

import io
import os
import zipfile

import ml_dtypes
import numpy as np
import pytest
import tensorbridge as tb

DTYPES = [
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
]
SHAPES = {"0d": (), "empty": (0, 3), "normal": (3, 5)}


def sample(dtype: str, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)
    if dt.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
    return (rng.standard_normal(shape) * 100).astype(dt)


def make(dtype: str, order: str, swapped: bool, shape_name: str) -> np.ndarray:
    a = sample(dtype, SHAPES[shape_name])
    a = np.asfortranarray(a) if order == "F" else np.ascontiguousarray(a)
    if swapped:
        a = a.astype(a.dtype.newbyteorder("S"))
    return a


def assert_same(t: tb.Tensor, expected: np.ndarray) -> None:
    got = t.numpy()
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype.newbyteorder("=")
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("shape_name", list(SHAPES))
@pytest.mark.parametrize("swapped", [False, True], ids=["native", "swapped"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_reads_what_numpy_writes(tmp_path, dtype, order, swapped, shape_name):
    a = make(dtype, order, swapped, shape_name)
    np.save(tmp_path / "a.npy", a)
    t = tb.load(tmp_path / "a.npy")
    assert_same(t, np.load(tmp_path / "a.npy"))
    if order == "F" and a.ndim > 1 and a.size > 1:
        assert not t.is_contiguous()  # the Fortran data is viewed in place, not reordered
        assert tb.read_npy_header(tmp_path / "a.npy").fortran_order
    np.savez(tmp_path / "s.npz", a=a, b=a[..., ::-1] if a.ndim else a)
    np.savez_compressed(tmp_path / "c.npz", a=a)
    for name in ("s.npz", "c.npz"):
        with tb.load(tmp_path / name) as f, np.load(tmp_path / name) as g:
            assert sorted(f.keys()) == sorted(g.files)
            for key in g.files:
                assert_same(f[key], g[key])


@pytest.mark.parametrize("shape_name", list(SHAPES))
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_reads_what_we_write_byte_for_byte(tmp_path, dtype, order, shape_name):
    a = make(dtype, order, False, shape_name)
    tb.save(tmp_path / "ours.npy", a)
    np.save(tmp_path / "theirs.npy", a)
    back = np.load(tmp_path / "ours.npy")
    np.testing.assert_array_equal(back, a)
    assert back.dtype == a.dtype and back.flags.f_contiguous == a.flags.f_contiguous
    assert (tmp_path / "ours.npy").read_bytes() == (tmp_path / "theirs.npy").read_bytes()


@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_reads_our_npz(tmp_path, dtype):
    arrays = {
        "x": make(dtype, "C", False, "normal"),
        "f": make(dtype, "F", False, "normal"),
        "z": sample(dtype, ()),
    }
    tb.savez(tmp_path / "s.npz", **arrays)
    tb.savez_compressed(tmp_path / "c.npz", **arrays)
    for name, method in (("s.npz", zipfile.ZIP_STORED), ("c.npz", zipfile.ZIP_DEFLATED)):
        with zipfile.ZipFile(tmp_path / name) as z:
            assert z.testzip() is None  # every CRC checks out
            assert {i.compress_type for i in z.infolist()} == {method}
        with np.load(tmp_path / name) as g:
            assert g.files == list(arrays)
            for key, a in arrays.items():
                np.testing.assert_array_equal(g[key], a)
                assert g[key].dtype == a.dtype


def test_savez_names_positional_arrays_like_numpy(tmp_path):
    tb.savez(tmp_path / "p.npz", np.arange(3), np.ones(2), extra=np.zeros(1))
    with np.load(tmp_path / "p.npz") as g:
        assert g.files == ["arr_0", "arr_1", "extra"]


def test_save_accepts_other_frameworks_and_casts(tmp_path, torch):
    tb.save(tmp_path / "t.npy", torch.arange(6, dtype=torch.int32).reshape(2, 3))
    np.testing.assert_array_equal(np.load(tmp_path / "t.npy"), np.arange(6, dtype=np.int32).reshape(2, 3))
    tb.save(tmp_path / "d.npy", np.linspace(0, 1, 5), dtype="float32")
    assert np.load(tmp_path / "d.npy").dtype == np.float32
    tb.save_npz(tmp_path / "d.npz", {"a": np.arange(4.0)}, dtype="float16", compress=True)
    assert np.load(tmp_path / "d.npz")["a"].dtype == np.float16


def test_format_version_2_and_3(tmp_path):
    a = sample("float32", (4, 2))
    for version in ((2, 0), (3, 0)):
        with open(tmp_path / "v.npy", "wb") as f:
            np.lib.format.write_array(f, a, version=version)
        h = tb.read_npy_header(tmp_path / "v.npy")
        assert h.major_version == version[0]
        assert_same(tb.load(tmp_path / "v.npy"), a)
    tb.save(tmp_path / "w.npy", a, version=2)
    np.testing.assert_array_equal(np.load(tmp_path / "w.npy"), a)


def test_utf8_field_names_in_version_3(tmp_path):
    a = np.array([(1, 2.0)], dtype=[("größe", "<i4"), ("値", "<f8")])
    with pytest.warns(UserWarning, match="format 3.0"):  # non-Latin-1 names force format 3.0
        np.save(tmp_path / "u.npy", a)
    assert tb.read_npy_header(tmp_path / "u.npy").major_version == 3
    cols = tb.load(tmp_path / "u.npy")
    assert list(cols) == ["größe", "値"]
    assert cols["値"].numpy()[0] == 2.0


def test_bfloat16_round_trip_as_numpy_writes_it(tmp_path):
    a = np.array([1.5, -2.0, np.inf], dtype=ml_dtypes.bfloat16)
    np.save(tmp_path / "np.npy", a)
    with pytest.raises(tb.FormatError, match="void2_as_bfloat16"):
        tb.load(tmp_path / "np.npy")
    t = tb.load(tmp_path / "np.npy", void2_as_bfloat16=True)
    assert t.dtype == "bfloat16"
    np.testing.assert_array_equal(t.numpy(), a)
    tb.save(tmp_path / "ours.npy", a)
    assert (tmp_path / "ours.npy").read_bytes() == (tmp_path / "np.npy").read_bytes()
    np.testing.assert_array_equal(np.load(tmp_path / "ours.npy").view(ml_dtypes.bfloat16), a)


def test_keep_byte_order_leaves_bytes_as_stored(tmp_path):
    a = np.arange(4, dtype=">i4")
    np.save(tmp_path / "be.npy", a)
    assert tb.read_npy_header(tmp_path / "be.npy").byteswapped
    kept = tb.load(tmp_path / "be.npy", keep_byte_order=True).numpy()
    np.testing.assert_array_equal(kept.view(">i4"), a)


def test_mmap_is_zero_copy_and_sees_the_file(tmp_path):
    a = sample("float64", (1000, 8))
    np.save(tmp_path / "m.npy", a)
    t = tb.load(tmp_path / "m.npy", mmap=True)
    assert t.read_only
    assert not t._c.storage_owned
    assert t.data_ptr % 64 == 0
    assert_same(t, a)
    view = np.asarray(t)  # (np.from_dlpack gets a private copy-on-write map of the same pages)
    assert view.ctypes.data == t.data_ptr  # NumPy sees the mapping itself
    assert not view.flags.writeable
    offset = tb.read_npy_header(tmp_path / "m.npy").data_offset
    with open(tmp_path / "m.npy", "r+b") as f:  # a shared mapping shows the file's new bytes
        f.seek(offset)
        f.write(np.float64(123.25).tobytes())
    assert view[0, 0] == 123.25


def test_mmap_open_is_o1_on_a_file_larger_than_memory(tmp_path):
    # A 64 GiB sparse file: reading it would need 64 GiB; mapping it touches only the header.
    n = 1 << 34
    header = np.lib.format.header_data_from_array_1_0(np.zeros(1, np.float32))
    header["shape"] = (n,)
    with open(tmp_path / "big.npy", "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        f.truncate(f.tell() + 4 * n)
    t = tb.load(tmp_path / "big.npy", mmap=True)
    assert t.shape == (n,) and t.nbytes == 4 * n
    assert np.from_dlpack(t)[-1] == 0.0


def test_copy_on_write_map_is_private(tmp_path):
    a = np.arange(10, dtype=np.int64)
    np.save(tmp_path / "c.npy", a)
    t = tb.load(tmp_path / "c.npy", mmap=True, copy_on_write=True)
    assert not t.read_only
    w = np.from_dlpack(t)
    w[0] = -1
    np.testing.assert_array_equal(np.load(tmp_path / "c.npy"), a)
    with pytest.raises(ValueError, match="copy_on_write=true needs mmap"):
        tb.load(tmp_path / "c.npy", copy_on_write=True)


def test_mapped_big_endian_needs_a_private_map(tmp_path):
    np.save(tmp_path / "be.npy", np.arange(3, dtype=">f8"))
    with pytest.raises(BufferError, match="copy_on_write"):
        tb.load(tmp_path / "be.npy", mmap=True)
    assert_same(tb.load(tmp_path / "be.npy", mmap=True, copy_on_write=True), np.arange(3.0))


def test_npz_is_lazy_and_dict_like(tmp_path):
    np.savez(tmp_path / "d.npz", train_x=np.arange(6.0).reshape(2, 3), train_y=np.arange(2))
    raw = bytearray((tmp_path / "d.npz").read_bytes())
    # Damage the second member's .npy magic: reading the first must not notice.
    second = raw.index(b"train_y.npy") + len(b"train_y.npy") + 20
    raw[second : second + 6] = b"XXXXXX"
    (tmp_path / "d.npz").write_bytes(bytes(raw))
    f = tb.load(tmp_path / "d.npz")
    assert isinstance(f, tb.NpzFile)
    assert list(f) == ["train_x", "train_y"] and len(f) == 2 and f.files == ["train_x", "train_y"]
    assert "train_x" in f and "train_x.npy" in f and "nope" not in f
    np.testing.assert_array_equal(f["train_x"].numpy(), np.arange(6.0).reshape(2, 3))
    with pytest.raises(tb.FormatError, match=r"d\.npz:train_y\.npy"):
        f["train_y"]
    with pytest.raises(KeyError):
        f["nope"]
    f.close()
    with pytest.raises(ValueError, match="closed"):
        f["train_x"]


def test_npz_items_context_manager_and_mmap(tmp_path):
    arrays = {"a": np.arange(5), "b": np.eye(3, dtype=np.float32)}
    np.savez(tmp_path / "e.npz", **arrays)
    with tb.load(tmp_path / "e.npz", mmap=True) as f:
        got = dict(f.items())
    for key, a in arrays.items():
        assert got[key].read_only and not got[key]._c.storage_owned  # mapped stored members
        assert_same(got[key], a)  # and valid after close


def test_object_arrays_are_refused(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(tb.FormatError, match="never unpickles"):
        tb.load(tmp_path / "o.npy")
    np.savez(tmp_path / "o.npz", x=np.array([1, "a"], dtype=object))
    with tb.load(tmp_path / "o.npz") as f, pytest.raises(tb.FormatError, match="object array"):
        f["x"]


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda b: b[:-1], "truncated"),
        (lambda b: b[:60], "truncated"),
        (lambda b: b.replace(b"(100,)", b"(900,)"), "truncated or its header is wrong"),
        (lambda b: b.replace(b"'<f8'", b"'<x8'"), "unsupported descr"),
        (lambda b: b[:8] + b"\xff\xff" + b[10:], "truncated"),
        (lambda b: b"\x93NUMPY\x09\x00" + b[8:], "version 9.0"),
        (lambda b: b"", "neither"),
    ],
)
def test_bad_npy_is_a_format_error_naming_the_file(tmp_path, damage, match):
    np.save(tmp_path / "ok.npy", np.arange(100.0))
    (tmp_path / "bad.npy").write_bytes(damage((tmp_path / "ok.npy").read_bytes()))
    with pytest.raises(tb.FormatError, match=match) as e:
        tb.load(tmp_path / "bad.npy")
    assert "bad.npy" in str(e.value)


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        tb.load(tmp_path / "nope.npy")
    with pytest.raises(tb.ReadError, match="nope.npz"):
        tb.NpzFile(tmp_path / "nope.npz")


def test_corrupt_zip_directory(tmp_path):
    buf = io.BytesIO()
    np.savez(buf, a=np.arange(10))
    raw = bytearray(buf.getvalue())
    end = raw.rindex(b"PK\x05\x06")
    raw[end + 16 : end + 20] = (len(raw) + 100).to_bytes(4, "little")  # directory offset past the end
    (tmp_path / "z.npz").write_bytes(bytes(raw))
    with pytest.raises(tb.FormatError, match=r"z\.npz.*byte offset"):
        tb.load(tmp_path / "z.npz")


def test_from_structured_seed_example_is_zero_copy():
    arr = np.array([(1, 2.5), (2, -1.0)], dtype=[("id", int), ("value", float)])
    cols = tb.from_structured(arr)
    assert list(cols) == ["id", "value"]
    assert_same(cols["id"], arr["id"])
    assert_same(cols["value"], arr["value"])
    assert cols["value"].data_ptr == arr.ctypes.data + 8
    assert cols["value"].strides == (2,)  # 16-byte records / 8-byte floats, in elements
    arr["value"][1] = 7.0  # shared memory: the column sees it
    assert cols["value"].numpy()[1] == 7.0


def test_from_structured_copies_what_cannot_be_a_view():
    packed = np.array([(1, 2), (3, 4)], dtype=[("a", "u1"), ("b", "<i4")])  # 5-byte records
    cols = tb.from_structured(packed)
    assert_same(cols["a"], packed["a"])
    assert_same(cols["b"], packed["b"])
    big = np.array([(1.5, [1, 2])], dtype=[("x", ">f8"), ("v", "<i2", (2,))])
    cols = tb.from_structured(big)
    assert_same(cols["x"], big["x"])
    assert cols["v"].shape == (1, 2)
    assert_same(cols["v"], big["v"])
    strided = np.array([(i, float(i)) for i in range(6)], dtype=[("i", "<i8"), ("f", "<f8")])[::2]
    assert_same(tb.from_structured(strided)["f"], strided["f"])
    with pytest.raises(TypeError, match="structured"):
        tb.from_structured(np.arange(3))
    with pytest.raises(TypeError, match="'s'"):
        tb.from_structured(np.array([("x",)], dtype=[("s", "U3")]))


def test_structured_npy_and_npz_members_load_as_columns(tmp_path):
    arr = np.array(
        [(1, 2.5, [1, 2]), (2, -1.0, [3, 4])], dtype=[("id", "<i8"), ("value", ">f8"), ("p", "<f4", (2,))]
    )
    np.save(tmp_path / "r.npy", arr)
    cols = tb.load(tmp_path / "r.npy")
    for name in arr.dtype.names:
        assert_same(cols[name], arr[name])
    np.savez_compressed(tmp_path / "r.npz", rec=arr)
    with tb.load(tmp_path / "r.npz") as f:
        assert_same(f["rec"]["value"], arr["value"])


def test_paths_accept_pathlike_and_str(tmp_path):
    tb.save(str(tmp_path / "s.npy"), np.arange(3))
    assert_same(tb.load(os.fspath(tmp_path / "s.npy")), np.arange(3))


# --- .npz CRC-32: a damaged member raises FormatError instead of reading as a wrong value ---------


def _npz_with_damage(path, compressed):
    """An np.savez / np.savez_compressed archive of a=ones(1000), b=arange(5), with one byte of
    member a.npy changed: its data (element 10: 1.0 -> 65536.0) when stored, the CRC-32 its
    central directory entry records when deflated."""
    (np.savez_compressed if compressed else np.savez)(path, a=np.ones(1000), b=np.arange(5))
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        local = z.getinfo("a.npy").header_offset
    if compressed:
        at = raw.find(b"PK\x01\x02")
        while raw[at + 46 : at + 46 + 5] != b"a.npy":
            at = raw.find(b"PK\x01\x02", at + 1)
        raw[at + 16] ^= 0x01
    else:
        name_len = int.from_bytes(raw[local + 26 : local + 28], "little")
        extra_len = int.from_bytes(raw[local + 28 : local + 30], "little")
        data = local + 30 + name_len + extra_len + 128  # np.save's 128-byte header
        assert raw[data + 10 * 8 + 7] == 0x3F  # the high byte of 1.0
        raw[data + 10 * 8 + 7] = 0x40  # 1.0 -> 65536.0
    path.write_bytes(bytes(raw))
    with pytest.raises(zipfile.BadZipFile, match="CRC"):  # NumPy's reader refuses it too
        np.load(path)["a"]


@pytest.mark.parametrize("compressed", [False, True], ids=["savez", "savez_compressed"])
@pytest.mark.parametrize("mmap", [False, True], ids=["read", "mmap"])
def test_npz_member_with_a_damaged_byte_fails_its_crc_check(tmp_path, compressed, mmap):
    path = tmp_path / "d.npz"
    _npz_with_damage(path, compressed)
    with tb.load(path, mmap=mmap) as f:
        with pytest.raises(tb.FormatError, match=r"d\.npz:a\.npy: CRC-32 mismatch in member 'a\.npy'") as e:
            f["a"]
        assert "verify_crc=False" in str(e.value)
        assert isinstance(e.value, ValueError)
        np.testing.assert_array_equal(f["b"].numpy(), np.arange(5))  # the other member is intact
    with tb.NpzFile(path, mmap=mmap) as f, pytest.raises(tb.FormatError, match="CRC-32"):
        f["a"]


@pytest.mark.parametrize("compressed", [False, True], ids=["savez", "savez_compressed"])
@pytest.mark.parametrize("mmap", [False, True], ids=["read", "mmap"])
def test_npz_verify_crc_false_reads_the_bytes_as_they_are(tmp_path, compressed, mmap):
    path = tmp_path / "d.npz"
    _npz_with_damage(path, compressed)
    expect = np.ones(1000)
    if not compressed:
        expect[10] = 65536.0
    with tb.load(path, mmap=mmap, verify_crc=False) as f:
        np.testing.assert_array_equal(f["a"].numpy(), expect)
    with tb.NpzFile(path, mmap=mmap, verify_crc=False) as f:
        np.testing.assert_array_equal(f["a"].numpy(), expect)


def test_npzfile_unknown_option_is_a_tensorbridge_error(tmp_path):
    # An unknown keyword is a tb.DTypeError (also a TypeError) naming the options it takes; it was
    # a bare TypeError outside the tb.TensorbridgeError hierarchy.
    path = tmp_path / "d.npz"
    np.savez(path, a=np.arange(3))
    with pytest.raises(tb.DTypeError, match="verify_crc"):
        tb.NpzFile(path, mmapp=True)
