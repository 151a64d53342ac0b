// What bounds the CSV reader's speed on one file, measured on one core: the structural pass alone
// (every field boundary, no conversion), the number conversion alone on fields split beforehand
// (tensorbridge's converters as the readers call them, and fast_float's `from_chars` directly),
// each for float32 and float64. bench_io_csv.py compiles this program on demand (the library's
// Release flags) and folds its JSON into its "bounds" section; it is not part of the library.
//
//     csv_bounds FILE REPEATS [matrix|columns]
//
// "matrix": every numeric field goes through the matrix path's chain (`csv_matrix_sink::fast_row`:
// the short-decimal parser, the 8-digit integer parser with its give-up rule, fast_float); rows of
// short decimals also through the SSSE3 row parser. "columns": the column path's in-place reading
// (`csv_column_sink::field`: int64 for integer columns, short decimals then fast_float as double).
// A column is numeric when fast_float reads each of its first 100 fields whole. Every conversion
// is checked against fast_float's (bit for bit; the integer columns as the double of the int64).
// Times are medians over REPEATS runs, wall and thread CPU seconds.

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fast_float/fast_float.h>

#include "io/csv/converter_internal.hpp"
#include "io/csv/fast_row_internal.hpp"
#include "io/csv/number_internal.hpp"
#include "io/csv/parser_internal.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CSV_BOUNDS_AVX2 1
#endif

namespace {

using namespace tb::detail;

struct timing {
  double wall = 0, cpu = 0;
};

double now_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Median wall and thread-CPU seconds of `repeats` calls of `fn` (after one warm-up call).
template <class F>
timing median_of(int repeats, F&& fn) {
  fn();
  std::vector<double> wall, cpu;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = now_cpu();
    fn();
    cpu.push_back(now_cpu() - c0);
    wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

std::string json(const timing& t) {
  std::ostringstream s;
  s.precision(9);
  s << "{\"wall_s\": " << t.wall << ", \"cpu_s\": " << t.cpu << "}";
  return s.str();
}

template <class T>
volatile T sink_value;

// Counts fields; sums their begin offsets so that nothing is optimised away.
struct boundary_sink {
  const char* base;
  std::uint64_t fields = 0, check = 0, rows = 0;
  void field(std::int64_t, csv_field f) {
    ++fields;
    check += static_cast<std::uint64_t>(f.begin - base);
  }
  bool end_row(const char*, std::int64_t) {
    ++rows;
    return true;
  }
};

// Records every field (begin offset; end = next begin - 1) and the fields per row.
struct split_sink {
  const char* base;
  std::vector<std::uint32_t> begin, end;
  std::int64_t per_row = -1;
  bool ragged = false;
  void field(std::int64_t, csv_field f) {
    begin.push_back(static_cast<std::uint32_t>(f.begin - base));
    end.push_back(static_cast<std::uint32_t>(f.end - base));
  }
  bool end_row(const char*, std::int64_t n) {
    if (per_row < 0) per_row = n;
    ragged = ragged || n != per_row;
    return true;
  }
};

#if defined(CSV_BOUNDS_AVX2)
// Every delimiter and line feed position, 64 bytes per step (AVX2 compares, bits flattened into
// offsets): the structural pass of a file without quotes, as simdjson/simdcsv do it.
__attribute__((target("avx2,bmi"))) std::size_t bitmask_boundaries(const char* p, std::size_t n, char sep,
                                                                   std::uint32_t* out) {
  const __m256i s = _mm256_set1_epi8(sep), lf = _mm256_set1_epi8('\n');
  std::uint32_t* o = out;
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32));
    const auto lo = static_cast<std::uint32_t>(
        _mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(a, s), _mm256_cmpeq_epi8(a, lf))));
    const auto hi = static_cast<std::uint32_t>(
        _mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(b, s), _mm256_cmpeq_epi8(b, lf))));
    std::uint64_t bits = lo | (std::uint64_t{hi} << 32);
    const int count = std::popcount(bits);
    // Flattening as simdjson does: eight positions per step whatever the count.
    for (int k = 0; k < count; k += 8) {
      for (int u = 0; u < 8; ++u) {
        o[k + u] = static_cast<std::uint32_t>(i) + static_cast<std::uint32_t>(std::countr_zero(bits | (1ull << 63)));
        bits &= bits - 1;
      }
    }
    o += count;
  }
  for (; i < n; ++i)
    if (p[i] == sep || p[i] == '\n') *o++ = static_cast<std::uint32_t>(i);
  return static_cast<std::size_t>(o - out);
}
#endif

struct file_fields {
  std::string text;  // the file, padded
  const char* data = nullptr;
  const char* eof = nullptr;
  const char* body = nullptr;  // the first data row
  std::vector<std::uint32_t> begin, end;  // numeric fields only, row-major
  std::vector<std::uint8_t> integer;      // per numeric field: its column holds integers (columns mode)
  std::int64_t per_row = 0, numeric_columns = 0, rows = 0, all_fields = 0;
};

template <class T>
std::string convert_section(const file_fields& ff, int repeats, bool columns) {
  const std::size_t n = ff.begin.size();
  std::vector<T> ours(n), theirs(n);
  std::vector<double> ours_double(columns ? n : 0);
  const char* base = ff.data;
  const char* eof = ff.eof;
  std::size_t bad_ours = 0;
  const timing t_ff = median_of(repeats, [&] {
    for (std::size_t i = 0; i < n; ++i) {
      const auto r = fast_float::from_chars(base + ff.begin[i], base + ff.end[i], theirs[i]);
      (void)r;
    }
  });
  timing t_ours;
  if (!columns) {
    t_ours = median_of(repeats, [&] {
      csv_number_chain<T> convert;
      bad_ours = 0;
      for (std::size_t i = 0; i < n; ++i) bad_ours += convert(base + ff.begin[i], eof, ours[i]) != base + ff.end[i];
    });
  } else {
    // The column path reads doubles (integers as int64, widened where a column holds floats too).
    t_ours = median_of(repeats, [&] {
      bad_ours = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const char* p = base + ff.begin[i];
        const char* e = base + ff.end[i];
        if (ff.integer[i]) {
          std::int64_t v = 0;
          bad_ours += csv_parse_int64(p, v) != e;
          ours_double[i] = static_cast<double>(v);
        } else {
          double d;
          const char* end = csv_parse_float_short(p, d);
          if (end == nullptr) end = csv_parse_float(p, e, d);
          bad_ours += end != e;
          ours_double[i] = d;
        }
      }
    });
  }
  // Both must give the same values (bit for bit).
  std::size_t mismatches = bad_ours;
  double sum_ours = 0, sum_theirs = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double a = columns ? ours_double[i] : static_cast<double>(ours[i]);
    const double b = columns ? static_cast<double>(static_cast<double>(theirs[i])) : static_cast<double>(theirs[i]);
    if (std::bit_cast<std::uint64_t>(a) != std::bit_cast<std::uint64_t>(b) && !(a != a && b != b)) ++mismatches;
    sum_ours += a;
    sum_theirs += b;
  }
  std::ostringstream s;
  s.precision(17);
  s << "{\"fast_float\": " << json(t_ff) << ", \"ours\": " << json(t_ours) << ", \"mismatches\": " << mismatches
    << ", \"sum_ours\": " << sum_ours << ", \"sum_fast_float\": " << sum_theirs;
#if defined(TB_CSV_SSSE3_ROWS)
  if (!columns && __builtin_cpu_supports("ssse3") && ff.numeric_columns == ff.per_row) {
    // Whole rows through the SSSE3 row parser (structure included), a refused row through the
    // per-field chain, as `csv_parse_matrix_rows` does (the last row: fewer than 16 bytes left).
    std::vector<T> rows_out(n);
    std::int64_t refused = 0;
    const timing t_rows = median_of(repeats, [&] {
      const char* p = ff.body;
      T* out = rows_out.data();
      csv_number_chain<T> convert;
      refused = 0;
      for (std::int64_t r = 0; r < ff.rows; ++r, out += ff.per_row) {
        if (const char* next = csv_parse_row_ssse3(p, eof, ',', ff.per_row, out)) {
          p = next;
          continue;
        }
        ++refused;
        const auto first = static_cast<std::size_t>(r * ff.per_row);
        for (std::int64_t j = 0; j < ff.per_row; ++j) convert(base + ff.begin[first + j], eof, out[j]);
        p = r + 1 < ff.rows ? base + ff.begin[first + ff.per_row] : eof;
      }
    });
    std::size_t row_mismatches = 0;
    for (std::size_t i = 0; i < n; ++i)
      row_mismatches += std::bit_cast<std::uint64_t>(static_cast<double>(rows_out[i])) !=
                        std::bit_cast<std::uint64_t>(static_cast<double>(theirs[i]));
    if (refused * 100 <= ff.rows)  // the row parser is what the reader uses on this file
      s << ", \"ssse3_rows\": " << json(t_rows) << ", \"ssse3_rows_mismatches\": " << row_mismatches;
  }
#endif
  s << "}";
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: csv_bounds FILE REPEATS [matrix|columns]\n");
    return 2;
  }
  const int repeats = std::max(1, std::atoi(argv[2]));
  const bool columns = argc > 3 && std::string(argv[3]) == "columns";
  file_fields ff;
  {
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "csv_bounds: cannot open %s\n", argv[1]);
      return 2;
    }
    std::ostringstream all;
    all << in.rdbuf();
    ff.text = all.str();
  }
  const std::size_t size = ff.text.size();
  if (size >= (std::size_t{1} << 32)) {
    std::fprintf(stderr, "csv_bounds: %s is 4 GB or more; offsets are 32-bit\n", argv[1]);
    return 2;
  }
  ff.text.append(64, '\0');  // the parsers read up to 32 bytes past a field
  ff.data = ff.text.data();
  ff.eof = ff.data + size;
  csv_dialect d;
  d.cls.fill(csv_plain);
  d.cls[static_cast<unsigned char>(',')] = csv_sep;
  d.cls[static_cast<unsigned char>('\n')] = csv_lf;
  d.cls[static_cast<unsigned char>('\r')] = csv_cr;
  d.cls[static_cast<unsigned char>('"')] = csv_quote;
  csv_source src{ff.data, ff.eof, argv[1], 1};
  ff.body = csv_next_line(d, ff.data, ff.eof);  // after the header
  const std::size_t body_bytes = static_cast<std::size_t>(ff.eof - ff.body);

  // Split once; decide which columns are numeric (and which hold integers) from the first 100 rows.
  split_sink split{ff.data, {}, {}};
  csv_tokenize(d, src, ff.body, ff.eof, nullptr, split);
  if (split.ragged || split.per_row <= 0) {
    std::fprintf(stderr, "csv_bounds: %s has rows of different lengths\n", argv[1]);
    return 2;
  }
  ff.per_row = split.per_row;
  ff.all_fields = static_cast<std::int64_t>(split.begin.size());
  ff.rows = ff.all_fields / ff.per_row;
  std::vector<std::uint8_t> numeric(static_cast<std::size_t>(ff.per_row), 1), integer(numeric);
  for (std::int64_t r = 0; r < std::min<std::int64_t>(ff.rows, 100); ++r) {
    for (std::int64_t j = 0; j < ff.per_row; ++j) {
      const auto i = static_cast<std::size_t>(r * ff.per_row + j);
      const char* b = ff.data + split.begin[i];
      const char* e = ff.data + split.end[i];
      double v;
      const auto res = fast_float::from_chars(b, e, v);
      numeric[static_cast<std::size_t>(j)] &= b != e && res.ptr == e;
      std::int64_t k;
      integer[static_cast<std::size_t>(j)] &= csv_parse_int64(b, k) == e;
    }
  }
  for (std::int64_t r = 0; r < ff.rows; ++r) {
    for (std::int64_t j = 0; j < ff.per_row; ++j) {
      if (!numeric[static_cast<std::size_t>(j)]) continue;
      const auto i = static_cast<std::size_t>(r * ff.per_row + j);
      ff.begin.push_back(split.begin[i]);
      ff.end.push_back(split.end[i]);
      ff.integer.push_back(integer[static_cast<std::size_t>(j)]);
    }
  }
  for (const auto x : numeric) ff.numeric_columns += x;
  std::vector<std::uint32_t>().swap(split.begin);
  std::vector<std::uint32_t>().swap(split.end);
  std::size_t numeric_bytes = 0;
  for (std::size_t i = 0; i < ff.begin.size(); ++i) numeric_bytes += ff.end[i] - ff.begin[i] + 1;

  // (a) The structural pass: the library's tokenizer with a sink that only counts fields, and a
  // bitmask scan of delimiters and line feeds (what a 64-bytes-per-step tokenizer costs at least).
  boundary_sink count{ff.data};
  const timing t_tok = median_of(repeats, [&] {
    count = boundary_sink{ff.data};
    csv_tokenize(d, src, ff.body, ff.eof, nullptr, count);
  });
  std::ostringstream out;
  out.precision(9);
  out << "{\"bytes\": " << size << ", \"body_bytes\": " << body_bytes << ", \"rows\": " << ff.rows
      << ", \"fields\": " << ff.all_fields << ", \"columns\": " << ff.per_row
      << ", \"numeric_columns\": " << ff.numeric_columns << ", \"numeric_fields\": " << ff.begin.size()
      << ", \"numeric_bytes\": " << numeric_bytes << ", \"mode\": \"" << (columns ? "columns" : "matrix") << "\""
      << ", \"structure\": {\"tokenizer\": " << json(t_tok) << ", \"tokenizer_fields\": " << count.fields;
#if defined(CSV_BOUNDS_AVX2)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi")) {
    std::vector<std::uint32_t> positions(body_bytes + 64);
    std::size_t found = 0;
    const timing t_bits = median_of(repeats, [&] {
      found = bitmask_boundaries(ff.body, body_bytes, ',', positions.data());
    });
    out << ", \"bitmask_avx2\": " << json(t_bits) << ", \"bitmask_fields\": " << found;
  }
#endif
  out << "}";
  out << ", \"convert\": {\"float32\": " << (columns ? std::string("null") : convert_section<float>(ff, repeats, false))
      << ", \"float64\": " << convert_section<double>(ff, repeats, columns) << "}}";
  std::printf("%s\n", out.str().c_str());
  return 0;
}
