#pragma once
// Splitting a CSV byte range into blocks parsed on several threads, correct when a quoted field with
// line breaks crosses a block boundary.
//
// Each block but the first starts speculatively after the first line break at or after its raw
// boundary, as if that break were outside quotes. Blocks are parsed in parallel; then, in file order,
// each block's start is checked against where the previous block's last row really ended. A block
// whose guess was wrong (the break was inside a quoted field) is parsed again from the true start.
// Errors of a block are held back until its start is confirmed, so a wrong guess never reports a
// false error, and a guess that opens a runaway "quoted field" stops at a limit instead of scanning
// to the end of the file.

#include <cstddef>
#include <functional>
#include <vector>

#include "io/csv/parser_internal.hpp"

namespace tb::detail {

/// The exact bytes of one block: every row that starts in [begin, end).
struct csv_block {
  const char* begin;
  const char* end;
};

/// Parses the rows of one block: `run(block, begin, stop, limit)` must reset the block's own state,
/// tokenize with `csv_tokenize(d, src, begin, stop, limit, sink)` and return its result. It may be
/// called twice for the same block (second time with `limit == nullptr`).
using csv_block_runner =
    std::function<const char*(std::size_t block, const char* begin, const char* stop, const char* limit)>;

/// How many blocks `csv_parse_blocks` cuts `bytes` bytes into (the runner's block indices are below it).
std::size_t csv_block_count(std::size_t bytes, std::size_t block_size) noexcept;

/// Where each block of `csv_parse_blocks(d, src, begin, end, block_size, ...)` first guesses its
/// rows start (see above); the first block starts at `begin`. Non-decreasing.
/// Line breaks in [begin, end), plus one for a last row without one (`last`: `end` is the end of the
/// text read): the rows there if none is blank, a comment or quoted across lines.
std::int64_t csv_count_rows(const char* begin, const char* end, bool last);

/// The rows each block of [begin, end) (cut as `csv_parse_blocks` cuts it) holds by `csv_count_rows`
/// from the row start it guesses, counted in parallel: a guess the caller must check against the rows
/// parsed.
std::vector<std::int64_t> csv_count_block_rows(const csv_dialect& d, const char* begin, const char* end,
                                               std::size_t block_size);

std::vector<const char*> csv_block_starts(const csv_dialect& d, const char* begin, const char* end,
                                          std::size_t block_size);

/// Splits [begin, end) into blocks of about `block_size` bytes, runs them in parallel and returns
/// their exact extents (blocks may be empty). Rethrows the first error in file order.
std::vector<csv_block> csv_parse_blocks(const csv_dialect& d, const csv_source& src, const char* begin,
                                        const char* end, std::size_t block_size, const csv_block_runner& run);

/// The block extents for a second pass over the same range: the same boundaries, run in parallel
/// with no speculation.
void csv_run_blocks(const std::vector<csv_block>& blocks,
                    const std::function<void(std::size_t block, const csv_block&)>& run);

}  // namespace tb::detail
