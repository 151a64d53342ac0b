// libFuzzer target for the CSV reader: any bytes must give a table or a tb::error, never a crash, a
// hang or a sanitizer report. The first byte picks options so that the quoting, escaping, comment,
// header and fused-matrix paths and tiny block sizes (block boundaries everywhere) are all reached.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tensorbridge/io/csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  tb::csv_options o;
  o.block_size = (flags & 3) == 0 ? (std::size_t{1} << 20) : 1 + (flags & 3) * 5;
  if (flags & 4) o.comment = '#';
  if (flags & 8) o.escapechar = '\\';
  if (flags & 16) o.dtype = tb::csv_column_type::from_name("float32");
  if (flags & 32) o.header = tb::csv_options::header_none;
  if (flags & 64) o.sep = ';';
  if (flags & 128) o.skip_blank_lines = false;
  try {
    tb::csv_table t = tb::read_csv_string(text, o);
    std::vector<std::string> numeric;
    for (const auto& c : t.columns())
      if (c.kind != tb::column_kind::strings) numeric.push_back(c.name);
    if (!numeric.empty()) (void)t.to_tensor(numeric, tb::dtype::float64);
  } catch (const tb::error&) {
  }
  return 0;
}
