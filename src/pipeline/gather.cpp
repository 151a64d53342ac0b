// Gathering rows into a batch buffer: the one place the pipeline touches sample data in bulk.

#include <algorithm>
#include <chrono>
#include <cstring>

#include "core/dispatch_internal.hpp"
#include "core/parallel_internal.hpp"
#include "pipeline/pipeline_internal.hpp"

namespace tb {
namespace {

// Small rows (a feature vector, a label) are the common case and dominate at small batch sizes:
// their size is a constant where `visit_size` knows it.
void gather_contiguous_rows(const std::byte* base, std::int64_t stride, const std::int64_t* idx, std::int64_t n,
                            std::byte* out, std::size_t row) {
  detail::visit_size(row, [&](auto size) {
    for (std::int64_t i = 0; i < n; ++i) std::memcpy(out + i * size, base + idx[i] * stride, size);
  });
}

}  // namespace

bool detail::rows_contiguous(const tensor& t) {
  std::int64_t expected = 1;
  for (std::int64_t d = t.ndim() - 1; d >= 1; --d) {
    if (t.shape()[d] != 1 && t.strides()[d] != expected) return false;
    expected *= t.shape()[d];
  }
  return true;
}

void gather_rows(const tensor& src, std::span<const std::int64_t> indices, const tensor& dst) {
  const auto n = static_cast<std::int64_t>(indices.size());
  if (src.ndim() < 1 || dst.ndim() != src.ndim() || dst.shape()[0] != n || src.dtype() != dst.dtype())
    fail(error_kind::value, "gather_rows: expected a destination of shape (", n, ", ...) and dtype ",
         name(src.dtype()), " for source ", src.describe(), ", got ", dst.describe());
  for (std::int64_t d = 1; d < src.ndim(); ++d)
    if (src.shape()[d] != dst.shape()[d])
      fail(error_kind::value, "gather_rows: row shapes differ: source ", src.describe(), ", destination ",
           dst.describe());
  if (!dst.is_contiguous()) fail(error_kind::value, "gather_rows: the destination must be C-contiguous");
  const std::int64_t rows = src.shape()[0];
  for (std::int64_t i = 0; i < n; ++i)
    if (indices[i] < 0 || indices[i] >= rows)
      fail(error_kind::value, "gather_rows: index ", indices[i], " at position ", i, " is out of range for ",
           rows, " rows");
  const std::size_t row_bytes = dst.nbytes() / static_cast<std::size_t>(std::max<std::int64_t>(n, 1));
  if (n == 0 || row_bytes == 0) return;

  if (detail::rows_contiguous(src)) {
    const auto* base = static_cast<const std::byte*>(src.data());
    const std::int64_t stride = src.strides()[0] * static_cast<std::int64_t>(src.itemsize());
    auto* out = static_cast<std::byte*>(dst.data());
    auto body = [&](std::int64_t begin, std::int64_t end) {
      gather_contiguous_rows(base, stride, indices.data() + begin, end - begin,
                             out + static_cast<std::size_t>(begin) * row_bytes, row_bytes);
    };
    // Split only large batches: below a few hundred KB the hand-off costs more than it saves.
    constexpr std::size_t parallel_bytes = std::size_t{1} << 19;
    if (dst.nbytes() < parallel_bytes) {
      body(0, n);
    } else {
      auto min_rows = static_cast<std::int64_t>(parallel_bytes / 2 / row_bytes) + 1;
      detail::parallel_for(n, min_rows, body);
    }
    return;
  }
  // Rows with gaps or odd strides (a transposed or sliced source): a strided copy per row.
  for (std::int64_t i = 0; i < n; ++i)
    copy_into(src.slice(indices[i], indices[i] + 1), dst.slice(i, i + 1));
}

namespace detail {

std::vector<std::int64_t> part_offsets(const dataset_field& field) {
  std::vector<std::int64_t> offsets{0, field.data.ndim() ? field.data.shape()[0] : 0};
  for (const tensor& part : field.continued) offsets.push_back(offsets.back() + (part.ndim() ? part.shape()[0] : 0));
  return offsets;
}

void gather_field(const dataset_field& field, const std::vector<std::int64_t>& offsets,
                  std::span<const std::int64_t> rows, const tensor& dst) {
  if (field.continued.empty()) return gather_rows(field.data, rows, dst);
  // Several parts (memory-mapped files): find each row's part; a page fault costs far more than
  // the per-row view made here.
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::int64_t r = rows[i];
    if (r < 0 || r >= offsets.back())
      fail(error_kind::value, "gather: index ", r, " is out of range for ", offsets.back(), " rows");
    auto part = static_cast<std::size_t>(std::upper_bound(offsets.begin(), offsets.end(), r) - offsets.begin() - 1);
    const tensor& src = part == 0 ? field.data : field.continued[part - 1];
    const std::int64_t local = r - offsets[part];
    const auto i64 = static_cast<std::int64_t>(i);
    gather_rows(src, std::span<const std::int64_t>(&local, 1), dst.slice(i64, i64 + 1));
  }
}

}  // namespace detail

double time_gather(std::span<const tensor> fields, std::span<const std::int64_t> order, std::int64_t batch_size) {
  if (batch_size < 1) fail(error_kind::value, "time_gather: batch_size must be at least 1, got ", batch_size);
  std::vector<tensor> buffers;
  for (const tensor& f : fields) {
    shape_t shape = f.shape();
    shape[0] = batch_size;
    buffers.push_back(tensor::empty(shape, f.dtype()));
  }
  const auto total = static_cast<std::int64_t>(order.size());
  auto start = std::chrono::steady_clock::now();
  for (std::int64_t first = 0; first < total; first += batch_size) {
    const std::int64_t n = std::min(batch_size, total - first);
    for (std::size_t f = 0; f < fields.size(); ++f)
      gather_rows(fields[f], order.subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(n)),
                  n == batch_size ? buffers[f] : buffers[f].slice(0, n));
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace tb
