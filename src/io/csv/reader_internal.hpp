#pragma once
// The steps of a whole-file CSV read shared by `read_csv` (one buffer) and the streamed read of a
// remote object (streamed_internal.hpp): the layout from the header, and parsing a range of rows.

#include <cstdint>
#include <optional>
#include <vector>

#include "io/csv/converter_internal.hpp"
#include "io/csv/parser_internal.hpp"
#include "tensorbridge/io/csv.hpp"

namespace tb::detail {

/// Throws the "no data" error of `src`: a header without rows (`had_header`) or an empty file.
[[noreturn]] void fail_no_data(const csv_source& src, bool had_header);

/// The columns read and their names and given types, from the header at `begin` (after skiprows).
csv_layout make_layout(const csv_dialect& d, const csv_source& src, const csv_options& options, const char* begin);

/// The first byte of `src` after a UTF-8 byte order mark.
const char* skip_bom(const csv_source& src);

/// The float type every read column has, if there is one (then rows parse into one matrix).
std::optional<dtype> matrix_dtype(const csv_layout& layout);

/// A table whose columns are the columns of the row-major `matrix` (shape (rows, names.size())),
/// which `to_tensor` of every column returns without a copy.
table table_of_matrix(const tensor& matrix, const std::vector<std::string>& names);

/// `options` with the delimiter detected when it is '\0' (pandas' sep=None).
csv_options with_sep(const csv_source& src, const csv_options& options);

/// Reads the rows that start in [begin, end) of a prepared source, in parallel blocks. `saw`, when
/// given and the columns are inferred, receives what inference saw per column (`csv_saw_*` flags),
/// from which the columns' types came (`csv_inferred_type`).
table read_range(const csv_context& ctx, const csv_options& options, const char* begin, const char* end,
                 std::vector<std::uint8_t>* saw = nullptr);

}  // namespace tb::detail
