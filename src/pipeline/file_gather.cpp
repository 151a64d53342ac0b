// Gathering rows of memory-mapped source files with positioned reads instead of through the
// mapping. Every page a gather touches through a mapping stays mapped into the process and counts
// in its RSS (RssFile), so one shuffled epoch over an 8 GB `.npy` would leave 8 GB resident.
// preadv copies the same bytes from the page cache straight into the batch buffer and maps
// nothing, at about one system call per row (~1 us; adjacent rows share one call), where a
// dropped-and-refaulted page costs ~10 us.

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/parallel_internal.hpp"
#include "pipeline/pipeline_internal.hpp"

namespace tb {

dataset dataset::keep_resident(bool keep) const {
  auto plan = std::make_shared<detail::dataset_plan>(*plan_);
  plan->keep_resident = keep;
  return dataset(std::move(plan));
}

namespace detail {
namespace {

// One row to read: `bytes` bytes of `part`'s file at `offset` into `dst`.
struct row_read {
  int fd;
  std::uint64_t offset;
  std::byte* dst;
  std::int64_t row;  // in the field, for error messages
  const storage::file_mapping* mapping;
};

// Only bytes that equal the file's can be read from it: a shared read-only mapping (a private
// one may hold writes the file never saw) whose rows are contiguous in the file.
bool readable_from_file(const tensor& part) {
  const auto& m = part.storage()->mapping();
  return m.base != nullptr && m.shared_read_only && m.fd >= 0 && rows_contiguous(part);
}

bool any_readable_from_file(const dataset_field& field) {
  if (readable_from_file(field.data)) return true;
  return std::any_of(field.continued.begin(), field.continued.end(), readable_from_file);
}

[[noreturn]] void fail_read(const row_read& r, std::size_t row_bytes, std::uint64_t at, int err) {
  if (err == 0)
    fail(error_kind::io, r.mapping->source, ": row ", r.row, " needs ", row_bytes, " bytes at byte offset ", r.offset,
         ", but the file ends at or before byte offset ", at,
         ": it was truncated after it was mapped; rebuild the data set from the complete file");
  fail(error_kind::io, r.mapping->source, ": reading row ", r.row, " (", row_bytes, " bytes at byte offset ", r.offset,
       ") failed: ", std::strerror(err));
}

// Reads a run of rows that are adjacent in one file with as few preadv calls as the kernel allows.
void read_run(std::span<const row_read> run, std::size_t row_bytes) {
  static const auto iov_max = static_cast<std::size_t>(::sysconf(_SC_IOV_MAX) > 0 ? ::sysconf(_SC_IOV_MAX) : 1024);
  // Most runs of a shuffled gather are one row: their vector lives on the stack.
  std::array<iovec, 4> few{};
  std::vector<iovec> many(run.size() > few.size() ? run.size() : 0);
  const std::span<iovec> iov = many.empty() ? std::span<iovec>(few.data(), run.size()) : std::span<iovec>(many);
  for (std::size_t i = 0; i < run.size(); ++i) iov[i] = {run[i].dst, row_bytes};
  std::size_t first = 0;
  std::uint64_t offset = run.front().offset;
  while (first < iov.size()) {
    const auto count = static_cast<int>(std::min(iov.size() - first, iov_max));
    const ssize_t got = ::preadv(run.front().fd, iov.data() + first, count, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    // The row where the read stopped: whole rows before it are done.
    const row_read& at = run[static_cast<std::size_t>(offset - run.front().offset) / row_bytes];
    if (got < 0) fail_read(at, row_bytes, offset, errno);
    if (got == 0) fail_read(at, row_bytes, offset, 0);
    offset += static_cast<std::uint64_t>(got);
    auto left = static_cast<std::size_t>(got);
    while (left > 0 && left >= iov[first].iov_len) left -= iov[first++].iov_len;
    if (left > 0) {  // a short read inside a row: resume in its middle
      iov[first].iov_base = static_cast<std::byte*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
}

}  // namespace

void gather_source_field(const dataset_plan& plan, std::size_t k, std::span<const std::int64_t> rows,
                         const tensor& dst) {
  const dataset_field& field = plan.fields[k];
  const std::vector<std::int64_t>& offsets = plan.offsets[k];
  const auto n = static_cast<std::int64_t>(rows.size());
  if (plan.keep_resident || n == 0 || dst.nbytes() == 0 || !dst.is_contiguous() || !any_readable_from_file(field))
    return gather_field(field, offsets, rows, dst);
  const std::size_t row_bytes = dst.nbytes() / static_cast<std::size_t>(n);
  auto* out = static_cast<std::byte*>(dst.data());

  std::vector<row_read> reads;
  reads.reserve(rows.size());
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t r = rows[static_cast<std::size_t>(i)];
    if (r < 0 || r >= offsets.back())
      fail(error_kind::value, "gather: index ", r, " is out of range for ", offsets.back(), " rows");
    auto part = static_cast<std::size_t>(std::upper_bound(offsets.begin(), offsets.end(), r) - offsets.begin() - 1);
    const tensor& src = part == 0 ? field.data : field.continued[part - 1];
    const std::int64_t local = r - offsets[part];
    if (!readable_from_file(src)) {  // a part in memory, or copy-on-write: read it where it is
      gather_rows(src, std::span<const std::int64_t>(&local, 1), dst.slice(i, i + 1));
      continue;
    }
    const auto& m = src.storage()->mapping();
    const std::byte* address = static_cast<const std::byte*>(src.data()) +
                               local * src.strides()[0] * static_cast<std::int64_t>(src.itemsize());
    const auto offset = m.file_offset + static_cast<std::uint64_t>(address - static_cast<const std::byte*>(m.base));
    reads.push_back({m.fd, offset, out + static_cast<std::size_t>(i) * row_bytes, r, &m});
  }
  // In file order, rows that follow each other on disk become one read, and the page cache is
  // walked forwards.
  std::sort(reads.begin(), reads.end(),
            [](const row_read& a, const row_read& b) { return a.fd != b.fd ? a.fd < b.fd : a.offset < b.offset; });
  std::vector<std::size_t> runs{0};
  for (std::size_t i = 1; i < reads.size(); ++i)
    if (reads[i].fd != reads[i - 1].fd || reads[i].offset != reads[i - 1].offset + row_bytes) runs.push_back(i);
  runs.push_back(reads.size());
  const auto nruns = static_cast<std::int64_t>(runs.size()) - 1;
  auto body = [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t j = begin; j < end; ++j) {
      const std::size_t lo = runs[static_cast<std::size_t>(j)];
      const std::size_t hi = runs[static_cast<std::size_t>(j) + 1];
      read_run(std::span<const row_read>(reads.data() + lo, hi - lo), row_bytes);
    }
  };
  // A run costs a system call (~1 us on top of its bytes), so a gather made alone is worth
  // splitting over the threads when it has many runs, however few bytes each (256 rows of 8 bytes
  // are 256 calls). Beside other prefetch workers only large gathers are split: the workers are
  // the parallelism, and splitting small ones too cost 28% on shuffled batches of 256 x 256 B.
  constexpr std::size_t parallel_bytes = std::size_t{1} << 19;
  const std::int64_t parallel_runs = one_of_several_producers ? nruns + 1 : 32;
  if (nruns < 2 || (nruns < parallel_runs && dst.nbytes() < parallel_bytes))
    body(0, nruns);
  else
    // Chunks of 16 runs, or fewer when that many would exceed about half of parallel_bytes.
    parallel_for(nruns,
                 std::clamp<std::int64_t>(nruns * static_cast<std::int64_t>(parallel_bytes / 2) /
                                              static_cast<std::int64_t>(dst.nbytes()),
                                          1, 16),
                 body);
}

}  // namespace detail
}  // namespace tb
