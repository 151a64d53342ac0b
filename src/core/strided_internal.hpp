#pragma once
// Iteration over two same-shaped strided tensors, row by row along the innermost dimension after
// merging dimensions that are contiguous in both. Shared by copies, casts and gathers.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/parallel_internal.hpp"
#include "tensorbridge/core/tensor.hpp"

namespace tb::detail {

/// Two tensors' layouts reduced to rows: `rows` rows of `inner` elements each.
struct row_layout {
  std::vector<std::int64_t> outer_shape;   // outer dimensions, outermost first
  std::vector<std::int64_t> src_outer;     // byte strides of the outer dimensions in src
  std::vector<std::int64_t> dst_outer;     // byte strides of the outer dimensions in dst
  std::int64_t rows = 1;                   // product of outer_shape
  std::int64_t inner = 1;                  // elements per row
  std::int64_t src_step = 0;               // byte stride along a row in src
  std::int64_t dst_step = 0;               // byte stride along a row in dst
};

/// Merges the dimensions of two same-shaped layouts, given by byte strides, into rows.
row_layout make_row_layout(const shape_t& shape, const shape_t& src_byte_strides, const shape_t& dst_byte_strides);

/// The same for two tensors of the same shape.
row_layout make_row_layout(const tensor& src, const tensor& dst);

/// Byte strides of `t`.
shape_t byte_strides(const tensor& t);

/// Copies `count` elements of `itemsize` bytes from `src` (step `src_step` bytes) to `dst`
/// (step `dst_step` bytes).
void copy_run(const std::byte* src, std::int64_t src_step, std::byte* dst, std::int64_t dst_step,
              std::int64_t count, std::size_t itemsize);

/// Calls `row(src, dst, count)` for runs of `count` elements along rows (byte pointers to the
/// run's first element), on several threads when the tensors hold more than `parallel_bytes`
/// bytes. A single long row is split into runs so that it, too, runs in parallel.
template <class Row>
void for_each_row(const row_layout& layout, const std::byte* src, std::byte* dst, std::size_t total_bytes,
                  Row&& row, std::size_t parallel_bytes = std::size_t{1} << 21) {
  auto run = [&](std::int64_t begin, std::int64_t end) {
    const std::size_t nd = layout.outer_shape.size();
    std::vector<std::int64_t> index(nd, 0);
    std::int64_t rest = begin;
    const std::byte* s = src;
    std::byte* d = dst;
    for (std::size_t k = nd; k-- > 0;) {
      index[k] = rest % layout.outer_shape[k];
      rest /= layout.outer_shape[k];
      s += index[k] * layout.src_outer[k];
      d += index[k] * layout.dst_outer[k];
    }
    for (std::int64_t r = begin; r < end; ++r) {
      row(s, d, layout.inner);
      for (std::size_t k = nd; k-- > 0;) {  // odometer increment
        s += layout.src_outer[k];
        d += layout.dst_outer[k];
        if (++index[k] < layout.outer_shape[k]) break;
        s -= layout.src_outer[k] * layout.outer_shape[k];
        d -= layout.dst_outer[k] * layout.outer_shape[k];
        index[k] = 0;
      }
    }
  };
  if (total_bytes < parallel_bytes) {
    run(0, layout.rows);
    return;
  }
  if (layout.rows == 1) {
    std::int64_t min_elems = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(parallel_bytes / 2) /
               std::max<std::int64_t>(1, static_cast<std::int64_t>(total_bytes) / std::max<std::int64_t>(layout.inner, 1)));
    parallel_for(layout.inner, min_elems, [&](std::int64_t begin, std::int64_t end) {
      row(src + begin * layout.src_step, dst + begin * layout.dst_step, end - begin);
    });
    return;
  }
  std::int64_t bytes_per_row = static_cast<std::int64_t>(total_bytes / static_cast<std::size_t>(layout.rows)) + 1;
  std::int64_t min_rows = std::max<std::int64_t>(1, static_cast<std::int64_t>(parallel_bytes / 2) / bytes_per_row);
  parallel_for(layout.rows, min_rows, run);
}

}  // namespace tb::detail
