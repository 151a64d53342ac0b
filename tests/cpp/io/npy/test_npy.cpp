#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "io_test_support.hpp"
#include "tensorbridge/io/file.hpp"
#include "tensorbridge/io/npy.hpp"

namespace {

using namespace tb::testing_files;  // scratch files, byte comparison, error capture

// A v1 .npy file with header text `dict` (padded as NumPy pads) followed by `data`.
std::string npy_bytes(const std::string& dict, const std::string& data, int version = 1) {
  std::size_t prefix = version == 1 ? 10 : 12;
  std::string header = dict;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(version);
  out += '\0';
  for (std::size_t i = 0; i < prefix - 8; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  return out + header + data;
}

// Fills a tensor with distinct byte patterns so that any misplaced byte shows.
tb::tensor patterned(tb::shape_t shape, tb::dtype t) {
  tb::tensor x = tb::tensor::empty(std::move(shape), t);
  auto* p = static_cast<unsigned char*>(x.data());
  for (std::size_t i = 0; i < x.nbytes(); ++i) p[i] = static_cast<unsigned char>(i * 7 + 3);
  if (t == tb::dtype::bool_)
    for (std::size_t i = 0; i < x.nbytes(); ++i) p[i] &= 1;
  return x;
}

TEST(Npy, RoundTripEveryDtypeAndLayout) {
  for (const auto& row : tb::all_dtypes()) {
    for (const tb::shape_t& shape : {tb::shape_t{}, tb::shape_t{0}, tb::shape_t{0, 3}, tb::shape_t{5},
                                      tb::shape_t{3, 4}, tb::shape_t{2, 3, 4}}) {
      tb::tensor x = patterned(shape, row.dtype);
      std::string path = temp_path("rt.npy");
      tb::save_npy(path, x);
      tb::npy_load_options opts;
      opts.void2_as_bfloat16 = true;
      tb::tensor y = tb::load_npy(path, opts);
      EXPECT_TRUE(same_bytes(x, y)) << row.name << " " << x.describe();
      EXPECT_TRUE(y.is_aligned()) << row.name;
      // Fortran order: the transposed view is written column-major and read back as a view.
      tb::tensor f = x.transpose();
      tb::save_npy(path, f);
      if (f.ndim() > 1 && f.numel() > 1) EXPECT_TRUE(tb::read_npy_header(path, opts).fortran_order);
      tb::tensor g = tb::load_npy(path, opts);
      EXPECT_TRUE(same_bytes(f, g)) << row.name << " fortran " << f.describe();
      if (f.ndim() > 1 && f.numel() > 1) EXPECT_FALSE(g.is_contiguous());
    }
  }
}

TEST(Npy, NonContiguousIsWrittenInCOrder) {
  tb::tensor x = patterned({6, 4}, tb::dtype::int32).slice(0, 6, 2);
  std::string path = temp_path("strided.npy");
  tb::save_npy(path, x);
  EXPECT_FALSE(tb::read_npy_header(path).fortran_order);
  EXPECT_TRUE(same_bytes(x, tb::load_npy(path)));
}

TEST(Npy, HeaderTextMatchesNumpy) {
  // Produced by numpy 2.x `np.save` of np.zeros(3, '<f4') and np.zeros((2, 3), order='F').
  tb::tensor x = tb::tensor::zeros({3}, tb::dtype::float32);
  std::string path = temp_path("h.npy");
  tb::save_npy(path, x);
  std::string bytes = read_file(path);
  ASSERT_EQ(bytes.size(), 128u + 12u);
  EXPECT_EQ(bytes.substr(10, 118), "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }" + std::string(60, ' ') + "\n");
  tb::save_npy(path, tb::tensor::zeros({3, 2}, tb::dtype::bool_).transpose());
  EXPECT_EQ(read_file(path).substr(10, 60), "{'descr': '|b1', 'fortran_order': True, 'shape': (2, 3), }  ");
  tb::save_npy(path, tb::tensor::zeros({}, tb::dtype::bfloat16));
  std::string zero_d = "{'descr': '<V2', 'fortran_order': False, 'shape': (), }";
  EXPECT_EQ(read_file(path).substr(10, zero_d.size() + 1), zero_d + " ");
}

TEST(Npy, Versions2And3AreRead) {
  std::string data(12, '\0');
  for (int v : {2, 3}) {
    std::string path = temp_path("v.npy");
    write_file(path, npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", data, v));
    tb::npy_header h = tb::read_npy_header(path);
    EXPECT_EQ(h.major_version, v);
    EXPECT_EQ(h.data_offset % 64, 0u);
    EXPECT_EQ(tb::load_npy(path).shape(), (tb::shape_t{3}));
  }
  tb::npy_save_options forced;
  forced.version = 2;
  std::string path = temp_path("v2.npy");
  tb::save_npy(path, patterned({4}, tb::dtype::int16), forced);
  EXPECT_EQ(tb::read_npy_header(path).major_version, 2);
}

TEST(Npy, BigEndianIsSwappedOrKept) {
  std::string data = std::string("\x00\x00\x00\x01\x00\x00\x01\x00", 8);
  std::string path = temp_path("be.npy");
  write_file(path, npy_bytes("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", data));
  tb::tensor x = tb::load_npy(path);
  EXPECT_EQ(x.at<std::int32_t>({0}), 1);
  EXPECT_EQ(x.at<std::int32_t>({1}), 256);
  tb::npy_load_options keep;
  keep.keep_byte_order = true;
  EXPECT_TRUE(tb::read_npy_header(path).byteswapped);
  EXPECT_EQ(tb::load_npy(path, keep).at<std::int32_t>({0}), 1 << 24);
  // Complex values swap each half.
  std::string c(16, '\0');
  c[3] = 1;   // real part 1 as big-endian float32 bits 0x00000001 (a denormal)...
  c[7] = 2;
  write_file(path, npy_bytes("{'descr': '>c8', 'fortran_order': False, 'shape': (2,), }", c));
  tb::tensor z = tb::load_npy(path);
  auto* words = static_cast<std::uint32_t*>(z.data());
  EXPECT_EQ(words[0], 1u);
  EXPECT_EQ(words[1], 2u);
}

TEST(Npy, MemoryMapIsZeroCopyAndReadOnly) {
  tb::tensor x = patterned({1000, 10}, tb::dtype::float64);
  std::string path = temp_path("mm.npy");
  tb::save_npy(path, x);
  std::int64_t before = tb::storage::live_count();
  {
    tb::npy_load_options opts;
    opts.mmap = true;
    tb::tensor y = tb::load_npy(path, opts);
    EXPECT_TRUE(y.read_only());
    EXPECT_FALSE(y.storage()->owned());
    EXPECT_TRUE(y.is_aligned());
    EXPECT_TRUE(same_bytes(x, y));
    // A shared mapping shows later changes to the file: proof that nothing was copied.
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(tb::read_npy_header(path).data_offset));
    double v = 42.5;
    f.write(reinterpret_cast<const char*>(&v), sizeof v);
    f.close();
    EXPECT_EQ(y.at<double>({0, 0}), 42.5);
  }
  EXPECT_EQ(tb::storage::live_count(), before);
}

TEST(Npy, CopyOnWriteMapIsWritableAndLeavesTheFile) {
  tb::tensor x = patterned({64}, tb::dtype::int32);
  std::string path = temp_path("cow.npy");
  tb::save_npy(path, x);
  tb::npy_load_options opts;
  opts.mmap = true;
  opts.copy_on_write = true;
  tb::tensor y = tb::load_npy(path, opts);
  EXPECT_FALSE(y.read_only());
  y.at<std::int32_t>({0}) = -7;
  EXPECT_TRUE(same_bytes(x, tb::load_npy(path)));
}

TEST(Npy, MappedBigEndianNeedsCopyOnWrite) {
  std::string path = temp_path("bemm.npy");
  write_file(path, npy_bytes("{'descr': '>i2', 'fortran_order': False, 'shape': (2,), }", std::string("\x00\x05\x00\x06", 4)));
  tb::npy_load_options opts;
  opts.mmap = true;
  tb::error_kind kind{};
  EXPECT_NE(error_of([&] { tb::load_npy(path, opts); }, &kind).find("copy_on_write"), std::string::npos);
  EXPECT_EQ(kind, tb::error_kind::buffer);
  opts.copy_on_write = true;
  EXPECT_EQ(tb::load_npy(path, opts).at<std::int16_t>({1}), 6);
}

TEST(Npy, OptionsValidate) {
  tb::npy_load_options bad;
  bad.copy_on_write = true;
  EXPECT_THROW(bad.validate(), tb::error);
  tb::npy_save_options v;
  v.version = 4;
  EXPECT_THROW(v.validate(), tb::error);
}

TEST(Npy, Bfloat16NeedsTheOption) {
  std::string path = temp_path("bf.npy");
  tb::save_npy(path, patterned({3}, tb::dtype::bfloat16));
  EXPECT_NE(error_of([&] { tb::load_npy(path); }).find("void2_as_bfloat16"), std::string::npos);
}

struct bad_case {
  const char* name;
  std::string bytes;
  const char* expect;  // a piece of the message
};

TEST(Npy, BadInputIsAFormatErrorWithOffset) {
  std::string ok_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }";
  std::string full = npy_bytes(ok_dict, std::string(16, '\0'));
  std::vector<bad_case> cases = {
      {"empty", "", "not a .npy file"},
      {"magic", "\x93NUMPX\x01\x00\x10\x00", "magic"},
      {"version", std::string("\x93NUMPY\x07\x00\x10\x00", 10), "version 7.0"},
      {"truncated prefix", std::string("\x93NUMPY\x02\x00\x10", 9), "not a .npy file"},
      {"header past file", std::string("\x93NUMPY\x01\x00\xff\x7f", 10) + "{", "truncated"},
      {"truncated data", full.substr(0, full.size() - 1), "16 bytes of data from byte offset 128"},
      {"lying shape", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000,), }", std::string(16, '\0')),
       "truncated or its header is wrong"},
      {"overflowing shape",
       npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", ""), "overflows"},
      {"empty, but its strides overflow",  // found by the fuzzer: no bytes, yet 14 * 2e18 as a stride
       npy_bytes("{'descr': [('id', '<i2'), ('v', '>f8'), ('p', '<f4')], 'fortran_order': False, "
                 "'shape': (0, 2000000000000000000), }", ""), "overflows"},
      {"empty 1-d with overflowing strides",
       npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4611686018427387904), }", ""), "overflows"},
      {"empty records of huge shape",  // found by the fuzzer: zero-sized records, a stride of 7e16 * 16963
       npy_bytes("{'descr': [('a', '<f4', (0,))], 'fortran_order': False, 'shape': (70000000000000950, 16963), }", ""),
       "overflows"},
      {"empty field whose own strides overflow",
       npy_bytes("{'descr': [('a', '<f8', (0, 4611686018427387904))], 'fortran_order': False, 'shape': (4,), }", ""),
       "overflows"},
      {"array and field shapes overflow together",
       npy_bytes("{'descr': [('a', '<f8', (0, 1099511627776))], 'fortran_order': False, 'shape': (1099511627776,), }",
                 ""),
       "overflows"},
      {"unknown descr", npy_bytes("{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (1,), }", std::string(8, '\0')),
       "unsupported descr"},
      {"object", npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", std::string(8, '\0')),
       "never unpickles"},
      {"missing key", npy_bytes("{'descr': '<f4', 'shape': (1,), }", std::string(4, '\0')), "exactly the keys"},
      {"extra key", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", std::string(4, '\0')),
       "unexpected key"},
      {"not a dict", npy_bytes("[1, 2]", ""), "must be a dict"},
      {"code", npy_bytes("{'descr': __import__('os'), 'fortran_order': False, 'shape': (1,), }", ""),
       "unexpected character"},
      {"unterminated", npy_bytes("{'descr': '<f4", ""), "unterminated string"},
      {"deep", npy_bytes(std::string(200, '(') + std::string(200, ')'), ""), "nested too deeply"},
      {"negative dim", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", ""), "non-negative"},
      {"huge int", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", ""),
       "integer too large"},
      {"fortran not bool", npy_bytes("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", std::string(4, '\0')),
       "True or False"},
  };
  for (const auto& c : cases) {
    std::string path = temp_path("bad.npy");
    write_file(path, c.bytes);
    tb::error_kind kind{};
    std::string msg = error_of([&] { tb::load_npy(path); }, &kind);
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.name << ": " << msg;
    EXPECT_NE(msg.find(path), std::string::npos) << c.name << ": " << msg;
    EXPECT_EQ(kind, tb::error_kind::format) << c.name << ": " << msg;
  }
}

TEST(Npy, HugeHeaderIsRefused) {
  std::string path = temp_path("huge.npy");
  std::string bytes = "\x93NUMPY";
  bytes += std::string("\x02\x00\x00\x00\x00\x10", 6);  // v2, length 256 MiB
  write_file(path, bytes + std::string(100, ' '));
  EXPECT_NE(error_of([&] { tb::load_npy(path); }).find("max_header_size"), std::string::npos);
}

TEST(Npy, MissingFileIsNotFound) {
  tb::error_kind kind{};
  std::string msg = error_of([&] { tb::load_npy(temp_path("does_not_exist.npy")); }, &kind);
  EXPECT_EQ(kind, tb::error_kind::not_found);
  EXPECT_NE(msg.find("does_not_exist.npy"), std::string::npos);
}

TEST(Structured, ColumnsAreViewsOfTheRecords) {
  // Records of (int64 id, float64 value, float32 xy[2]) = 24 bytes.
  tb::tensor records = tb::tensor::zeros({3, 24}, tb::dtype::uint8);
  for (std::int64_t r = 0; r < 3; ++r) {
    auto* rec = static_cast<std::byte*>(records.data()) + r * 24;
    std::int64_t id = 10 + r;
    double value = 0.5 * static_cast<double>(r);
    float xy[2] = {static_cast<float>(r), -static_cast<float>(r)};
    std::memcpy(rec, &id, 8);
    std::memcpy(rec + 8, &value, 8);
    std::memcpy(rec + 16, xy, 8);
  }
  std::vector<tb::record_field> fields = {{"id", tb::dtype::int64, 0},
                                          {"value", tb::dtype::float64, 8},
                                          {"xy", tb::dtype::float32, 16, {2}}};
  auto cols = tb::columns_from_records(records, fields);
  ASSERT_EQ(cols.size(), 3u);
  EXPECT_EQ(cols[0].name, "id");
  EXPECT_EQ(cols[0].copy_reason, "");
  EXPECT_EQ(cols[0].values.strides(), (tb::shape_t{3}));
  EXPECT_EQ(cols[0].values.at<std::int64_t>({2}), 12);
  EXPECT_EQ(cols[1].values.at<double>({1}), 0.5);
  EXPECT_EQ(cols[2].values.shape(), (tb::shape_t{3, 2}));
  EXPECT_EQ(cols[2].values.at<float>({2, 1}), -2.0f);
  EXPECT_EQ(cols[0].values.data(), records.data());  // zero copy
  // A packed record (int8, int32) = 5 bytes: the int32 column cannot be a view.
  tb::tensor packed = tb::tensor::zeros({2, 5}, tb::dtype::uint8);
  std::vector<tb::record_field> pf = {{"a", tb::dtype::int8, 0}, {"b", tb::dtype::int32, 1}};
  auto pc = tb::columns_from_records(packed, pf);
  EXPECT_EQ(pc[0].copy_reason, "");
  EXPECT_NE(pc[1].copy_reason.find("not a multiple"), std::string::npos);
  std::vector<tb::record_field> outside = {{"z", tb::dtype::float64, 20}};
  EXPECT_THROW(tb::columns_from_records(records, outside), tb::error);
}

TEST(Structured, NpyFileIsReadAsColumns) {
  // What np.save writes for np.array([(1, 2.5), (2, -1.0)], dtype=[('id', '<i8'), ('value', '>f8')]).
  std::string data(32, '\0');
  data[0] = 1;
  data[16] = 2;
  double v = 2.5;
  std::uint64_t bits;
  std::memcpy(&bits, &v, 8);
  for (int i = 0; i < 8; ++i) data[8 + i] = static_cast<char>((bits >> (56 - 8 * i)) & 0xFF);
  std::string path = temp_path("rec.npy");
  write_file(path, npy_bytes("{'descr': [('id', '<i8'), ('value', '>f8')], 'fortran_order': False, 'shape': (2,), }", data));
  EXPECT_TRUE(tb::read_npy_header(path).is_structured());
  EXPECT_NE(error_of([&] { tb::load_npy(path); }).find("load_npy_columns"), std::string::npos);
  auto cols = tb::load_npy_columns(path);
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_EQ(cols[0].values.at<std::int64_t>({1}), 2);
  EXPECT_EQ(cols[1].values.at<double>({0}), 2.5);
  EXPECT_NE(cols[1].copy_reason.find("byte-swapped"), std::string::npos);
  // Padding fields ('', '|V4') are skipped; sub-array fields keep their shape.
  write_file(path, npy_bytes("{'descr': [('a', '<i4'), ('', '|V4'), ('b', '<f4', (2,))], 'fortran_order': False, "
                             "'shape': (1,), }",
                             std::string(16, '\0')));
  auto padded = tb::load_npy_columns(path);
  ASSERT_EQ(padded.size(), 2u);
  EXPECT_EQ(padded[1].values.shape(), (tb::shape_t{1, 2}));
  EXPECT_EQ(static_cast<std::byte*>(padded[1].values.data()) - static_cast<std::byte*>(padded[0].values.data()), 8);
}

}  // namespace

namespace {

// Names in `folder` other than `keep` (a leftover temporary file shows here).
std::vector<std::string> others_in(const std::string& folder, const std::string& keep) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(folder))
    if (e.path().filename() != keep) out.push_back(e.path().filename().string());
  return out;
}

}  // namespace

TEST(Npy, SaveOverTheFileItIsMappedFrom) {
  // The old mapping stays whole and the new file is complete (it used to be written through
  // O_TRUNC into the file being read: "Bad address" and a 4 KiB file).
  const std::string path = temp_path("x.npy");
  tb::tensor x = tb::tensor::empty({1 << 20}, tb::dtype::float64);
  for (std::int64_t i = 0; i < x.numel(); ++i) static_cast<double*>(x.data())[i] = static_cast<double>(i);
  tb::save_npy(path, x);
  tb::tensor mapped = tb::load_npy(path, {.mmap = true});
  tb::save_npy(path, mapped);
  EXPECT_TRUE(same_bytes(mapped, x));
  EXPECT_TRUE(same_bytes(tb::load_npy(path), x));
  EXPECT_TRUE(others_in(std::filesystem::path(path).parent_path(), "x.npy").empty());
}

TEST(Npy, SaveIntoAMissingFolderOrADirectory) {
  tb::error_kind kind{};
  const std::string missing = temp_path("no/such/x.npy");
  std::string msg = error_of([&] { tb::save_npy(missing, tb::tensor::zeros({2}, tb::dtype::int8)); }, &kind);
  EXPECT_EQ(kind, tb::error_kind::not_found) << msg;
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  const std::string folder = std::filesystem::path(temp_path("x")).parent_path();
  msg = error_of([&] { tb::save_npy(folder, tb::tensor::zeros({2}, tb::dtype::int8)); }, &kind);
  EXPECT_EQ(kind, tb::error_kind::is_directory) << msg;
  msg = error_of([&] { tb::load_npy(folder); }, &kind);
  EXPECT_EQ(kind, tb::error_kind::is_directory) << msg;
}

TEST(AtomicWriter, DiscardOrErrorKeepsTheOldFile) {
  const std::string path = temp_path("t.csv");
  write_file(path, "old");
  {
    tb::atomic_writer w(path);
    w.write(std::as_bytes(std::span<const char>("new", 3)));
    // Dies uncommitted, as when an exception unwinds through it.
  }
  EXPECT_EQ(read_file(path), "old");
  {
    tb::atomic_writer w(path);
    w.write(std::as_bytes(std::span<const char>("partial", 7)));
    w.discard();
  }
  EXPECT_EQ(read_file(path), "old");
  tb::atomic_writer w(path);
  w.write(std::as_bytes(std::span<const char>("new", 3)));
  w.commit();
  EXPECT_EQ(read_file(path), "new");
  EXPECT_TRUE(others_in(std::filesystem::path(path).parent_path(), "t.csv").empty());
}

TEST(Npy, ReadsAFifoThroughMemory) {
  const std::string path = temp_path("fifo");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  tb::tensor x = tb::tensor::zeros({3, 2}, tb::dtype::int32);
  static_cast<std::int32_t*>(x.data())[5] = 7;
  std::string bytes;
  tb::save_npy_to([&](std::span<const std::byte> b) { bytes.append(reinterpret_cast<const char*>(b.data()), b.size()); },
                  x);
  std::thread writer([&] { write_file(path, bytes); });
  tb::npy_or_npz got = tb::load_npy_or_npz(path);
  writer.join();
  ASSERT_EQ(got.columns.size(), 1u);
  EXPECT_TRUE(same_bytes(got.columns[0].values, x));
  EXPECT_EQ(got.end, bytes.size());
}
