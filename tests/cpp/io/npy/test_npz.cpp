#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "io_test_support.hpp"
#include "tensorbridge/io/npy.hpp"

namespace {

using namespace tb::testing_files;  // scratch files, byte comparison, error capture

tb::tensor patterned(tb::shape_t shape, tb::dtype t, int seed = 0) {
  tb::tensor x = tb::tensor::empty(std::move(shape), t);
  auto* p = static_cast<unsigned char*>(x.data());
  for (std::size_t i = 0; i < x.nbytes(); ++i) p[i] = static_cast<unsigned char>((i / 64) * 3 + seed);
  return x;
}

std::uint32_t u32_at(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}

void put_u32(std::string& s, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put_u64(std::string& s, std::size_t at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

std::vector<std::pair<std::string, tb::tensor>> sample_arrays() {
  return {{"train_x", patterned({100, 7}, tb::dtype::float32, 1)},
          {"train_y", patterned({100}, tb::dtype::int64, 2)},
          {"scalar", patterned({}, tb::dtype::float64, 3)},
          {"empty", patterned({0, 4}, tb::dtype::int16, 4)},
          {"fortran", patterned({5, 3}, tb::dtype::complex64, 5).transpose()}};
}

TEST(Npz, RoundTripStoredAndDeflated) {
  auto arrays = sample_arrays();
  for (bool compress : {false, true}) {
    std::string path = temp_path(compress ? "c.npz" : "s.npz");
    tb::npz_save_options opts;
    opts.compress = compress;
    tb::save_npz(path, arrays, opts);
    tb::npz_reader reader(path);
    ASSERT_EQ(reader.keys().size(), arrays.size());
    for (std::size_t i = 0; i < arrays.size(); ++i) {
      EXPECT_EQ(reader.keys()[i], arrays[i].first);
      EXPECT_EQ(reader.members()[i].compressed, compress);
      EXPECT_TRUE(reader.contains(arrays[i].first));
      EXPECT_TRUE(reader.contains(arrays[i].first + ".npy"));
      tb::tensor y = reader.load(arrays[i].first);
      EXPECT_TRUE(same_bytes(arrays[i].second, y)) << arrays[i].first;
      EXPECT_TRUE(y.is_aligned()) << arrays[i].first;
    }
    EXPECT_FALSE(reader.contains("nope"));
    EXPECT_NE(error_of([&] { reader.load("nope"); }).find("'train_x'"), std::string::npos);
    if (compress) EXPECT_LT(reader.members()[0].compressed_size, reader.members()[0].uncompressed_size);
  }
}

TEST(Npz, StoredMembersAreMappedAndOutliveTheReader) {
  std::string path = temp_path("m.npz");
  auto arrays = sample_arrays();
  tb::save_npz(path, arrays);
  tb::npy_load_options opts;
  opts.mmap = true;
  tb::tensor y;
  {
    tb::npz_reader reader(path, opts);
    y = reader.load("train_x");
    reader.close();
    EXPECT_THROW(reader.load("train_y"), tb::error);
  }
  EXPECT_TRUE(y.read_only());
  EXPECT_FALSE(y.storage()->owned());
  EXPECT_TRUE(same_bytes(arrays[0].second, y));
}

TEST(Npz, HeadersAndColumns) {
  std::string path = temp_path("h.npz");
  tb::save_npz(path, sample_arrays(), {.compress = true});
  tb::npz_reader reader(path);
  EXPECT_EQ(reader.header("train_x").shape, (tb::shape_t{100, 7}));
  EXPECT_TRUE(reader.header("fortran").fortran_order);
  auto cols = reader.load_columns("train_y");
  ASSERT_EQ(cols.size(), 1u);
  EXPECT_EQ(cols[0].values.shape(), (tb::shape_t{100}));
}

TEST(Npz, SaveRejectsBadNames) {
  std::vector<std::pair<std::string, tb::tensor>> dup = {{"a", tb::tensor()}, {"a", tb::tensor()}};
  EXPECT_THROW(tb::save_npz(temp_path("d.npz"), dup), tb::error);
  std::vector<std::pair<std::string, tb::tensor>> empty = {{"", tb::tensor()}};
  EXPECT_THROW(tb::save_npz(temp_path("d.npz"), empty), tb::error);
  tb::npz_save_options level;
  level.compression_level = 12;
  EXPECT_THROW(level.validate(), tb::error);
}

// Positions in an archive of one member "a.npy" as save_npz writes it.
struct layout {
  std::string bytes;
  std::size_t cd;   // central directory entry
  std::size_t end;  // end of central directory record
};

layout one_member(bool compress) {
  std::string path = temp_path("one.npz");
  std::vector<std::pair<std::string, tb::tensor>> arrays = {{"a", patterned({1000}, tb::dtype::int32)}};
  tb::save_npz(path, arrays, {.compress = compress});
  layout l;
  l.bytes = read_file(path);
  l.end = l.bytes.size() - 22;
  l.cd = u32_at(l.bytes, l.end + 16);
  return l;
}

TEST(Npz, CorruptArchivesAreFormatErrors) {
  struct bad {
    const char* name;
    bool compress;
    std::function<void(layout&)> damage;
    const char* expect;
  };
  std::vector<bad> cases = {
      {"empty file", false, [](layout& l) { l.bytes.clear(); }, "not a zip archive"},
      {"no end record", false, [](layout& l) { l.bytes[l.end] = 'X'; }, "no end of central directory"},
      {"truncated", false, [](layout& l) { l.bytes.resize(l.bytes.size() / 2); }, "not a zip archive"},
      {"directory past end", false, [](layout& l) { put_u32(l.bytes, l.end + 16, 0x7FFFFFF0); }, "point past"},
      {"bad entry signature", false, [](layout& l) { l.bytes[l.cd] = 'Q'; }, "central directory entry signature"},
      {"bad local signature", false, [](layout& l) { l.bytes[0] = 'Q'; }, "local header signature"},
      {"entry count lies", false, [](layout& l) { l.bytes[l.end + 10] = 9; }, "entry count"},
      {"local offset past data", false, [](layout& l) { put_u64(l.bytes, l.cd + 46 + 5 + 4 + 16, 1u << 30); },
       "local header offset"},
      {"size lies (stored)", false,
       [](layout& l) {
         put_u64(l.bytes, l.cd + 46 + 5 + 4, 1u << 30);
         put_u64(l.bytes, l.cd + 46 + 5 + 4 + 8, 1u << 30);
       },
       "runs past the data area"},
      {"stored sizes differ", false, [](layout& l) { put_u64(l.bytes, l.cd + 46 + 5 + 4, 7); }, "different compressed"},
      {"zip bomb", true, [](layout& l) { put_u64(l.bytes, l.cd + 46 + 5 + 4, std::uint64_t{1} << 40); }, "zip bomb"},
      {"inflates short", true, [](layout& l) { put_u64(l.bytes, l.cd + 46 + 5 + 4, 4300); }, "inflates to"},
      {"inflates long", true, [](layout& l) { put_u64(l.bytes, l.cd + 46 + 5 + 4, 100); }, "more than the 100 bytes"},
      {"crc", true, [](layout& l) { l.bytes[l.cd + 16] ^= 1; }, "CRC-32"},
      {"deflate garbage", true, [](layout& l) { std::memset(l.bytes.data() + 30 + 5 + 20, 0xFF, 8); },
       "invalid deflate data"},
      {"method", false, [](layout& l) { l.bytes[l.cd + 10] = 12; }, "compression method 12"},
      {"missing zip64 extra", false, [](layout& l) { l.bytes[l.cd + 46 + 5] = 9; }, "no zip64 extra field"},
  };
  for (auto& c : cases) {
    layout l = one_member(c.compress);
    c.damage(l);
    std::string path = temp_path("bad.npz");
    write_file(path, l.bytes);
    tb::error_kind kind{};
    std::string msg = error_of(
        [&] {
          tb::npz_reader reader(path);
          for (const auto& k : reader.keys()) reader.load(k);
        },
        &kind);
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.name << ": " << msg;
    EXPECT_NE(msg.find(path), std::string::npos) << c.name << ": " << msg;
    EXPECT_EQ(kind, tb::error_kind::format) << c.name << ": " << msg;
  }
}

TEST(Npz, MemberWithBadNpyContentNamesTheMember) {
  layout l = one_member(false);
  l.bytes[30 + 5 + 20 + 1] = 'X';  // inside the magic string of a.npy
  std::string path = temp_path("badnpy.npz");
  write_file(path, l.bytes);
  tb::npz_reader reader(path);
  EXPECT_NE(error_of([&] { reader.load("a"); }).find("badnpy.npz:a.npy"), std::string::npos);
}

// A damaged byte in a member must not read as a wrong value: the CRC-32 is checked by default,
// whether the member is stored or deflated, read or mapped; verify_crc=false reads it anyway.
TEST(Npz, DamagedMembersFailTheirCrcCheckUnlessTheCheckIsOff) {
  tb::tensor values = tb::tensor::empty({1000}, tb::dtype::float64);
  for (std::int64_t i = 0; i < 1000; ++i) static_cast<double*>(values.data())[i] = 1.0;
  struct damage {
    const char* name;
    bool compress;
    std::function<void(layout&, std::size_t data)> apply;
  };
  std::vector<damage> cases = {
      // A bit of the exponent of element 10 (1.0 -> 0.5).
      {"a data byte (stored)", false, [](layout& l, std::size_t data) { l.bytes[data + 10 * 8 + 6] ^= 0x10; }},
      {"a header padding byte (stored)", false, [](layout& l, std::size_t data) { l.bytes[data - 2] = '\t'; }},
      {"the recorded CRC (deflated)", true, [](layout& l, std::size_t) { l.bytes[l.cd + 16] ^= 1; }},
  };
  for (const auto& c : cases) {
    std::string path = temp_path("crc.npz");
    std::vector<std::pair<std::string, tb::tensor>> arrays = {{"a", values}};
    tb::save_npz(path, arrays, {.compress = c.compress});
    layout l;
    l.bytes = read_file(path);
    l.end = l.bytes.size() - 22;
    l.cd = u32_at(l.bytes, l.end + 16);
    std::size_t data;
    {
      tb::npz_reader reader(path);
      data = static_cast<std::size_t>(reader.data_offset("a") + reader.header("a").data_offset);
    }
    c.apply(l, data);
    write_file(path, l.bytes);
    for (bool mmap : {false, true}) {
      if (mmap && c.compress) continue;  // deflated members are always read
      for (bool cow : {false, true}) {
        if (cow && !mmap) continue;
        std::string how = std::string(c.name) + (mmap ? (cow ? ", copy-on-write map" : ", map") : ", read");
        tb::npy_load_options o;
        o.mmap = mmap;
        o.copy_on_write = cow;
        tb::error_kind kind{};
        std::string msg = error_of([&] { tb::npz_reader(path, o).load("a"); }, &kind);
        EXPECT_EQ(kind, tb::error_kind::format) << how << ": " << msg;
        EXPECT_NE(msg.find(path + ":a.npy"), std::string::npos) << how << ": " << msg;
        EXPECT_NE(msg.find("CRC-32 mismatch in member 'a.npy'"), std::string::npos) << how << ": " << msg;
        EXPECT_NE(msg.find("verify_crc=False"), std::string::npos) << how << ": " << msg;
        o.verify_crc = false;
        tb::tensor got = tb::npz_reader(path, o).load("a");
        ASSERT_EQ(got.numel(), 1000) << how;
        // A mapped stored member sits wherever the archive put it, so its data may be unaligned.
        double element10 = 0;
        std::memcpy(&element10, static_cast<const std::byte*>(got.data()) + 10 * sizeof(double), sizeof(double));
        EXPECT_EQ(element10, std::string(c.name).starts_with("a data byte") ? 0.5 : 1.0) << how;
      }
    }
  }
}

// Members over 4 MiB are checked in blocks on several threads and the CRCs joined: an intact
// member must pass, read or mapped, and a damaged byte in a late block must still fail.
TEST(Npz, LargeMembersAreCheckedInBlocks) {
  std::string path = temp_path("large.npz");
  std::vector<std::pair<std::string, tb::tensor>> arrays = {{"a", patterned({(10 << 20) / 4 + 3}, tb::dtype::float32)}};
  tb::save_npz(path, arrays);
  for (bool mmap : {false, true}) {
    tb::npy_load_options o;
    o.mmap = mmap;
    EXPECT_TRUE(same_bytes(tb::npz_reader(path, o).load("a"), arrays[0].second)) << "mmap=" << mmap;
  }
  std::string bytes = read_file(path);
  bytes[9 << 20] ^= 0x20;
  write_file(path, bytes);
  for (bool mmap : {false, true}) {
    tb::npy_load_options o;
    o.mmap = mmap;
    EXPECT_NE(error_of([&] { tb::npz_reader(path, o).load("a"); }).find("CRC-32 mismatch"), std::string::npos)
        << "mmap=" << mmap;
  }
}

}  // namespace

TEST(Npz, SaveOverTheArchiveItIsMappedFrom) {
  // Used to SIGBUS (the archive was truncated under the mapping) and leave a 183-byte file.
  const std::string path = temp_path("d.npz");
  const auto arrays = sample_arrays();
  tb::save_npz(path, arrays);
  tb::npz_reader reader(path, {.mmap = true});
  const std::vector<std::pair<std::string, tb::tensor>> again{{"a", reader.load("train_x")},
                                                              {"b", reader.load("train_y")}};
  tb::save_npz(path, again, {.compress = true});
  EXPECT_TRUE(same_bytes(again[0].second, arrays[0].second));
  tb::npz_reader fresh(path);
  EXPECT_TRUE(same_bytes(fresh.load("a"), arrays[0].second));
  EXPECT_TRUE(same_bytes(fresh.load("b"), arrays[1].second));
}

TEST(Npz, MemberOfAnArchiveTruncatedAfterOpening) {
  const std::string path = temp_path("d.npz");
  tb::save_npz(path, sample_arrays());
  for (bool mmap : {false, true}) {
    tb::npz_reader reader(path, {.mmap = mmap});
    const std::string whole = read_file(path);
    write_file(path, whole.substr(0, 200));
    tb::error_kind kind{};
    const std::string msg = error_of([&] { reader.load("train_y"); }, &kind);
    EXPECT_EQ(kind, tb::error_kind::io) << msg;
    EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
    write_file(path, whole);
  }
}

// Records every read of the archive, to show what opening and reading one member cost.
class counting_source final : public tb::byte_source {
 public:
  explicit counting_source(const std::string& bytes)
      : bytes_(bytes), inner_(tb::memory_source(std::as_bytes(std::span<const char>(bytes_)), "counted.npz")) {}
  std::uint64_t size() const override { return inner_->size(); }
  void read_at(void* out, std::size_t n, std::uint64_t offset) override {
    reads->push_back({offset, n});
    inner_->read_at(out, n, offset);
  }
  const std::string& where() const override { return inner_->where(); }
  std::shared_ptr<std::vector<std::pair<std::uint64_t, std::size_t>>> reads =
      std::make_shared<std::vector<std::pair<std::uint64_t, std::size_t>>>();

 private:
  std::string bytes_;
  std::unique_ptr<tb::byte_source> inner_;
};

std::uint64_t bytes_read(const std::vector<std::pair<std::uint64_t, std::size_t>>& reads) {
  std::uint64_t n = 0;
  for (const auto& r : reads) n += r.second;
  return n;
}

TEST(Npz, OpeningReadsTheTailAndAMemberOnlyItsOwnBytes) {
  // Two 2 MB members: opening reads the last 64 KiB (end records + directory); reading "b" reads
  // its local header, its .npy header and data, and nothing of "a".
  const std::vector<std::pair<std::string, tb::tensor>> arrays = {
      {"a", patterned({1 << 18}, tb::dtype::float64, 1)}, {"b", patterned({1 << 18}, tb::dtype::float64, 2)}};
  for (bool compress : {false, true}) {
    const std::string path = temp_path("counted.npz");
    tb::save_npz(path, arrays, {.compress = compress});
    auto source = std::make_unique<counting_source>(read_file(path));
    auto reads = source->reads;
    const std::uint64_t size = source->size();
    tb::npz_reader reader(std::move(source), {});
    EXPECT_EQ(reads->size(), 1u) << "compress=" << compress;
    EXPECT_EQ(bytes_read(*reads), std::min<std::uint64_t>(size, 22 + 65535));
    const std::uint64_t a_start = reader.members()[0].local_header_offset;
    const std::uint64_t b_start = reader.members()[1].local_header_offset;
    reads->clear();
    EXPECT_TRUE(same_bytes(reader.load("b"), arrays[1].second)) << "compress=" << compress;
    const std::uint64_t member = reader.members()[1].compressed_size;
    EXPECT_GE(bytes_read(*reads), member);
    EXPECT_LE(bytes_read(*reads), member + 3 * 4096 + 64) << "compress=" << compress;
    for (const auto& [offset, n] : *reads) {
      EXPECT_GE(offset, b_start) << "a read of " << n << " bytes at " << offset << " before member b";
      EXPECT_TRUE(offset + n <= a_start || offset >= b_start) << "a read overlaps member a";
    }
    reads->clear();
    EXPECT_TRUE(same_bytes(reader.load("a"), arrays[0].second));
    EXPECT_EQ(reader.data_offset("b"), b_start + 30 + 5 + 20);  // name "b.npy", zip64 extra
  }
}
