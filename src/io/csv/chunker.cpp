#include <algorithm>
#include <atomic>
#include <exception>

#include "core/parallel_internal.hpp"
#include "io/csv/chunker_internal.hpp"
#include "tensorbridge/core/threads.hpp"

namespace tb::detail {
namespace {

// The row start a block guesses: right at the boundary if a line break precedes it, else after the
// next line break.
const char* guess_row_start(const csv_dialect& d, const char* boundary, const char* eof) {
  if (boundary[-1] == '\n') return boundary;
  if (boundary[-1] == '\r') return (boundary < eof && *boundary == '\n') ? boundary + 1 : boundary;
  return csv_next_line(d, boundary, eof);
}

// Runs `body(i)` for every i in [0, n) on the pool. Blocks are handed out one at a time rather than in
// one contiguous range per thread, so a thread that is slowed down (other work on the machine, a
// block of slow rows) does not leave the others idle at the end.
void for_each_block(std::size_t n, const std::function<void(std::size_t)>& body) {
  std::atomic<std::size_t> next{0};
  const auto workers = static_cast<std::int64_t>(std::min<std::size_t>(n, static_cast<std::size_t>(std::max(1, num_threads()))));
  parallel_for(workers, 1, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t w = lo; w < hi; ++w) {
      for (std::size_t i = next.fetch_add(1, std::memory_order_relaxed); i < n;
           i = next.fetch_add(1, std::memory_order_relaxed))
        body(i);
    }
  });
}

// The raw boundaries of the blocks of [begin, end): begin, ..., end (block count + 1 pointers).
std::vector<const char*> block_boundaries(const char* begin, const char* end, std::size_t block_size) {
  const auto bytes = static_cast<std::size_t>(end - begin);
  const std::size_t n = csv_block_count(bytes, block_size);
  std::vector<const char*> boundary(n + 1);
  for (std::size_t i = 0; i <= n; ++i) boundary[i] = begin + bytes * i / n;
  return boundary;
}

}  // namespace

std::size_t csv_block_count(std::size_t bytes, std::size_t block_size) noexcept {
  block_size = std::max<std::size_t>(block_size, 1);
  return std::max<std::size_t>(1, (bytes + block_size - 1) / block_size);
}

std::vector<const char*> csv_block_starts(const csv_dialect& d, const char* begin, const char* end,
                                          std::size_t block_size) {
  std::vector<const char*> start = block_boundaries(begin, end, block_size);
  start.pop_back();
  for (std::size_t i = 1; i < start.size(); ++i) start[i] = std::min(guess_row_start(d, start[i], end), end);
  return start;
}

std::int64_t csv_count_rows(const char* begin, const char* end, bool last) {
  const auto breaks = static_cast<std::int64_t>(csv_count_line_feeds(begin, end));
  return breaks + (last && end > begin && end[-1] != '\n' ? 1 : 0);
}

std::vector<std::int64_t> csv_count_block_rows(const csv_dialect& d, const char* begin, const char* end,
                                               std::size_t block_size) {
  const std::vector<const char*> starts = csv_block_starts(d, begin, end, block_size);
  const std::size_t n = starts.size();
  std::vector<std::int64_t> counted(n);
  for_each_block(n, [&](std::size_t b) {
    counted[b] = csv_count_rows(starts[b], b + 1 < n ? starts[b + 1] : end, b + 1 == n);
  });
  return counted;
}

std::vector<csv_block> csv_parse_blocks(const csv_dialect& d, const csv_source& src, const char* begin,
                                        const char* end, std::size_t block_size, const csv_block_runner& run) {
  const std::vector<const char*> boundary = block_boundaries(begin, end, block_size);
  const std::size_t n = boundary.size() - 1;
  const std::vector<const char*> start = csv_block_starts(d, begin, end, block_size);
  std::vector<const char*> finish(n);
  std::vector<std::exception_ptr> errors(n);

  // A wrong guess can take a line break inside quotes for a row end and open a "quoted field" that
  // never closes; the limit keeps such a scan near its block. A real long quoted field that passes
  // the limit is parsed again without one once its block's start is confirmed.
  const std::size_t slack = std::max<std::size_t>(block_size, std::size_t{1} << 16);
  for_each_block(n, [&](std::size_t i) {
    const char* stop = boundary[i + 1];
    const char* limit = (i + 1 < n && static_cast<std::size_t>(end - stop) > slack) ? stop + slack : nullptr;
    try {
      finish[i] = run(i, start[i], std::max(stop, start[i]), limit);
    } catch (...) {
      errors[i] = std::current_exception();
      finish[i] = nullptr;
    }
  });

  std::vector<csv_block> blocks(n);
  const char* expected = begin;
  for (std::size_t i = 0; i < n; ++i) {
    const char* stop = std::max(boundary[i + 1], expected);
    if (start[i] != expected || (finish[i] == nullptr && !errors[i])) {
      finish[i] = run(i, expected, stop, nullptr);  // serial re-parse from the confirmed start; throws directly
    } else if (errors[i]) {
      std::rethrow_exception(errors[i]);
    }
    blocks[i] = {expected, finish[i]};
    expected = finish[i];
  }
  return blocks;
}

void csv_run_blocks(const std::vector<csv_block>& blocks,
                    const std::function<void(std::size_t block, const csv_block&)>& run) {
  for_each_block(blocks.size(), [&](std::size_t i) { run(i, blocks[i]); });
}

}  // namespace tb::detail
