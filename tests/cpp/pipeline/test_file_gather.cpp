// Gathering rows of memory-mapped files with positioned reads (`dataset::keep_resident(false)`):
// the same batches as reading through the mapping, the mapping's pages never become resident,
// copy-on-write and Fortran-order sources are still read from memory, and a file truncated after
// it was mapped is a clear error instead of a SIGBUS.

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "io_test_support.hpp"
#include "tensorbridge/pipeline/dataset.hpp"
#include "tensorbridge/io/npy.hpp"

namespace {

using namespace tb::testing_files;  // scratch files, byte comparison, error capture

constexpr std::int64_t mib = std::int64_t{1} << 20;

// Resident bytes of the mapping that contains `address`, from /proc/self/smaps (per mapping, so
// the rest of the process cannot disturb it).
std::int64_t mapping_rss(const void* address) {
  std::ifstream smaps("/proc/self/smaps");
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
      inside = lo <= a && a < hi;
      continue;
    }
    long long kb = 0;
    if (inside && std::sscanf(line.c_str(), "Rss: %lld kB", &kb) == 1) return kb * 1024;
  }
  ADD_FAILURE() << "no mapping contains " << address;
  return -1;
}

// An (n, width) float32 .npy whose row i holds first + i everywhere.
std::string write_rows(const std::string& name, std::int64_t n, std::int64_t width, std::int64_t first = 0) {
  tb::tensor x = tb::tensor::empty({n, width}, tb::dtype::float32);
  auto* p = static_cast<float*>(x.data());
  for (std::int64_t i = 0; i < n * width; ++i) p[i] = static_cast<float>(first + i / width);
  const std::string path = temp_path(name);
  tb::save_npy(path, x);
  return path;
}

tb::tensor map_npy(const std::string& path, bool copy_on_write = false) {
  return tb::load_npy(path, {.mmap = true, .copy_on_write = copy_on_write});
}

// Every batch of one iteration, flattened to bytes per field.
std::vector<std::vector<std::string>> all_batches(const tb::dataset& ds, const tb::prefetch_options& prefetch) {
  std::vector<std::vector<std::string>> out;
  auto it = ds.iterate(prefetch);
  while (auto b = it->next()) {
    std::vector<std::string> fields;
    for (const tb::tensor& t : *b) fields.emplace_back(static_cast<const char*>(t.data()), t.nbytes());
    out.push_back(std::move(fields));
  }
  return out;
}

TEST(FileGather, MappedFilesRecordADescriptorAndTheirFileOffsetOnlyWhenShared) {
  const std::string path = write_rows("x.npy", 16, 3);
  tb::tensor x = map_npy(path);
  const auto& m = x.storage()->mapping();
  ASSERT_NE(m.base, nullptr);
  EXPECT_TRUE(m.shared_read_only);
  ASSERT_GE(m.fd, 0);
  EXPECT_EQ(m.source, path);
  // The descriptor reads the bytes the mapping shows.
  const auto at = m.file_offset + static_cast<std::uint64_t>(static_cast<const std::byte*>(x.data()) -
                                                               static_cast<const std::byte*>(m.base));
  float row5[3] = {};
  ASSERT_EQ(::pread(m.fd, row5, sizeof(row5), static_cast<off_t>(at + 5 * sizeof(row5))),
            static_cast<ssize_t>(sizeof(row5)));
  EXPECT_EQ(std::memcmp(row5, &x.at<float>({5, 0}), sizeof(row5)), 0);

  const int fd = m.fd;
  x = tb::tensor();  // the last view: unmaps and closes the descriptor
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);

  tb::tensor cow = map_npy(path, true);
  EXPECT_FALSE(cow.storage()->mapping().shared_read_only);
  EXPECT_EQ(cow.storage()->mapping().fd, -1);  // written pages exist only in memory
  EXPECT_EQ(tb::tensor::zeros({4}, tb::dtype::float32).storage()->mapping().fd, -1);
}

// Shuffled batches of a field made of a mapped file, an in-memory part, a copy-on-write mapping
// holding a write the file never saw, and a second mapped file; plus a Fortran-order mapped
// field (rows not contiguous in the file) and an int64 label field: positioned reads give
// exactly the batches reading through the mappings gives, with and without worker threads.
TEST(FileGather, PositionedReadsGiveTheSameBatchesAsTheMapping) {
  constexpr std::int64_t width = 3;  // 12-byte rows: no row is page-aligned
  tb::tensor a = map_npy(write_rows("a.npy", 1000, width, 0));
  tb::tensor b = tb::tensor::empty({77, width}, tb::dtype::float32);
  for (std::int64_t i = 0; i < b.numel(); ++i) static_cast<float*>(b.data())[i] = static_cast<float>(1000 + i / width);
  tb::tensor c = map_npy(write_rows("c.npy", 500, width, 1077), true);
  c.at<float>({7, 1}) = -1.0f;
  tb::tensor d = map_npy(write_rows("d.npy", 423, width, 1577));
  const std::int64_t n = 2000;

  tb::tensor f = tb::tensor::empty({2, n}, tb::dtype::int32);  // saved in Fortran order
  for (std::int64_t i = 0; i < 2 * n; ++i) static_cast<std::int32_t*>(f.data())[i] = static_cast<std::int32_t>(i);
  const std::string f_path = temp_path("f.npy");
  tb::save_npy(f_path, f.transpose());
  tb::tensor fortran = map_npy(f_path);
  ASSERT_FALSE(fortran.is_contiguous());

  tb::tensor labels = tb::tensor::empty({n}, tb::dtype::int64);
  for (std::int64_t i = 0; i < n; ++i) static_cast<std::int64_t*>(labels.data())[i] = i;
  const std::string y_path = temp_path("y.npy");
  tb::save_npy(y_path, labels);

  auto ds = tb::dataset::from_tensor_slices({{"x", a, {b, c, d}}, {"f", fortran}, {"y", map_npy(y_path)}})
                .shuffle({.enabled = true, .seed = 11})
                .batch({.batch_size = 37});
  for (const tb::prefetch_options& p : {tb::prefetch_options{.buffer_size = 0},
                                        tb::prefetch_options{.buffer_size = 2, .num_threads = 2, .block_bytes = 4096}}) {
    auto mapped = all_batches(ds.keep_resident(true), p);
    auto read = all_batches(ds.keep_resident(false), p);
    ASSERT_EQ(mapped.size(), static_cast<std::size_t>((n + 36) / 37));
    EXPECT_TRUE(mapped == read);
    // And the content is the data's, not only equal: each sample once, rows consistent.
    std::vector<int> seen(static_cast<std::size_t>(n), 0);
    bool saw_write = false;
    for (const auto& batch : read) {
      const auto* x = reinterpret_cast<const float*>(batch[0].data());
      const auto* y = reinterpret_cast<const std::int64_t*>(batch[2].data());
      const auto* fo = reinterpret_cast<const std::int32_t*>(batch[1].data());
      for (std::size_t r = 0; r < batch[2].size() / 8; ++r) {
        ++seen[static_cast<std::size_t>(y[r])];
        const bool written = y[r] == 1077 + 7;
        saw_write |= written && x[r * width + 1] == -1.0f;
        EXPECT_EQ(x[r * width], static_cast<float>(y[r])) << "row " << y[r];
        if (!written) EXPECT_EQ(x[r * width + 1], static_cast<float>(y[r])) << "row " << y[r];
        EXPECT_EQ(fo[2 * r], y[r]);
        EXPECT_EQ(fo[2 * r + 1], n + y[r]);
      }
    }
    EXPECT_TRUE(saw_write) << "a copy-on-write mapping must be read from memory";
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), n);
  }
}

// One shuffled epoch over a 64 MiB mapped file: the mapping's resident bytes before and after.
// Building the data set reads a few rows through the mapping (its fingerprint), which can map a
// few MiB around each of them (large page-cache folios), hence the baseline.
std::pair<std::int64_t, std::int64_t> epoch_rss(const std::string& path, bool keep_resident) {
  tb::tensor x = map_npy(path);
  auto ds = tb::dataset::from_tensor_slices({{"x", x}})
                .shuffle({.enabled = true, .seed = 3})
                .batch({.batch_size = 64})
                .keep_resident(keep_resident);
  const std::int64_t before = mapping_rss(x.storage()->mapping().base);
  std::int64_t rows = 0;
  auto it = ds.iterate({.buffer_size = 2});
  while (auto b = it->next()) rows += (*b)[0].shape()[0];
  EXPECT_EQ(rows, x.shape()[0]);
  return {before, mapping_rss(x.storage()->mapping().base)};
}

TEST(FileGather, PositionedReadsLeaveTheMappingNonResident) {
  const std::string path = write_rows("big.npy", 16384, 1024);  // 64 MiB of 4 KiB rows
  auto [before, after] = epoch_rss(path, false);
  EXPECT_LE(after, before) << "positioned reads mapped pages in";
  EXPECT_LT(after, 48 * mib);
  EXPECT_GT(epoch_rss(path, true).second, 60 * mib);  // the control: through the mapping, the whole file
}

TEST(FileGather, AFileTruncatedAfterItWasMappedIsAClearError) {
  const std::string path = write_rows("cut.npy", 1024, 1024);  // 4 MiB
  tb::tensor x = map_npy(path);
  auto ds = tb::dataset::from_tensor_slices({{"x", x}}).batch({.batch_size = 256}).keep_resident(false);
  ASSERT_EQ(::truncate(path.c_str(), 2 * mib), 0);  // rows from about 511 on are gone
  for (std::int64_t depth : {0, 2}) {
    auto it = ds.iterate({.buffer_size = depth});
    try {
      while (it->next()) {
      }
      ADD_FAILURE() << "no error for a truncated file";
    } catch (const tb::error& e) {
      EXPECT_EQ(e.kind(), tb::error_kind::io);
      const std::string what = e.what();
      EXPECT_NE(what.find(path), std::string::npos) << what;
      EXPECT_NE(what.find("row 511 "), std::string::npos) << what;  // the first row past the end
      EXPECT_NE(what.find("byte offset"), std::string::npos) << what;
      EXPECT_NE(what.find("truncated"), std::string::npos) << what;
    }
  }
}

}  // namespace
