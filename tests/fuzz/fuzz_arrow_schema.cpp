// libFuzzer target for the Arrow C Data Interface validator and importer: any schema/array tree
// built from the input (format strings, lengths, offsets, null counts, buffer and child counts,
// null pointers, dictionaries, released structs) must import or give a tb::error, never a crash,
// a hang or a sanitizer report.
//
// The C Data Interface carries no buffer sizes, so the harness allocates every buffer as large as
// the lengths and offsets it wrote need (a producer that lies about them is beyond detection); all
// else, including offsets and view indices, comes from the input.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tensorbridge/interop/arrow.hpp"

namespace {

struct input {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  std::int32_t int32() {
    std::int32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<std::int32_t>(byte()) << (8 * i);
    return v;
  }
};

const char* const formats[] = {"n", "b", "c", "C", "s", "S", "i", "I", "l", "L", "e", "f", "g", "z", "Z", "u", "U",
                               "vu", "vz", "w:4", "tdD", "tdm", "tts", "ttn", "tsu:", "tss:UTC", "tDn", "tiM",
                               "+l", "+L", "+w:3", "+w:0", "+s", "+m", "+ud:0,1", "+us:0", "+r", "d:10,2", "+vl",
                               "+w:99999999999", "w:", "ts", "tsx:", "+w:-1", "x", ""};

struct arena {
  std::vector<std::unique_ptr<std::vector<std::uint8_t>>> blocks;
  std::vector<std::unique_ptr<std::string>> strings;
  std::vector<std::unique_ptr<tb::arrow_schema>> schemas;
  std::vector<std::unique_ptr<tb::arrow_array>> arrays;
  std::vector<std::unique_ptr<std::vector<const void*>>> buffer_lists;
  std::vector<std::unique_ptr<std::vector<tb::arrow_schema*>>> schema_lists;
  std::vector<std::unique_ptr<std::vector<tb::arrow_array*>>> array_lists;

  std::uint8_t* block(std::size_t size, input& in, bool random) {
    blocks.push_back(std::make_unique<std::vector<std::uint8_t>>(size + 16, 0));
    auto& b = *blocks.back();
    if (random)
      for (auto& x : b) x = in.byte();
    return b.data();
  }
};

void no_release_schema(tb::arrow_schema* s) { s->release = nullptr; }
void no_release_array(tb::arrow_array* a) { a->release = nullptr; }

// Builds one schema/array node from the input.
void build(arena& A, input& in, tb::arrow_schema& s, tb::arrow_array& a, int depth) {
  const std::uint8_t pick = in.byte();
  std::string format;
  if (pick < 240) {
    format = formats[pick % (sizeof(formats) / sizeof(formats[0]))];
  } else {
    for (std::uint8_t len = in.byte() % 8; len > 0; --len) format += static_cast<char>(in.byte());
  }
  // This node's own strings, held now: the children and the dictionary built below add theirs.
  A.strings.push_back(std::make_unique<std::string>(format));
  const char* const format_text = A.strings.back()->c_str();
  A.strings.push_back(std::make_unique<std::string>(std::string(1, static_cast<char>('a' + in.byte() % 26))));
  const char* const name_text = A.strings.back()->c_str();
  // Lengths and offsets: small, or a negative one the validator must refuse. (A large positive
  // one is legal, and would need buffers that large: the harness cannot lie about sizes.)
  auto extent = [&](std::uint8_t pick, int small) -> std::int64_t {
    if (!(pick & 0x80)) return pick % small;
    const std::int32_t v = in.int32();
    return v < 0 ? v : v % small;
  };
  const std::int64_t length = extent(in.byte(), 40);
  const std::int64_t offset = extent(in.byte(), 8);
  const std::int64_t null_count = static_cast<std::int64_t>(in.byte() % 6) - 1;
  const std::uint8_t flags = in.byte();
  // Enough elements for any sane (offset, length) pair; insane ones must be refused by the validator.
  const std::int64_t span = (length >= 0 && offset >= 0) ? offset + length : 80;
  const std::int64_t elements = span + 1;

  std::int64_t n_buffers = 2, n_children = 0;
  if (format == "n" || format == "+r") n_buffers = 0;
  if (format == "u" || format == "z" || format == "U" || format == "Z" || format == "+vl") n_buffers = 3;
  if (format == "+w:3" || format == "+w:0" || format == "+s" || format == "+us:0") n_buffers = 1;
  if (format == "vu" || format == "vz") n_buffers = 3 + in.byte() % 3;
  if (format.starts_with("+l") || format.starts_with("+L") || format.starts_with("+w") || format == "+m" ||
      format == "+vl")
    n_children = 1;
  if (format == "+s" || format.starts_with("+u")) n_children = in.byte() % 3;
  if (format == "+r") n_children = 2;
  if (flags & 1) n_buffers += (flags & 2) ? 1 : -1;      // a wrong buffer count
  if (flags & 4) n_children += (flags & 8) ? 1 : -1;     // a wrong child count
  if (n_buffers < 0) n_buffers = 0;
  if (n_children < 0 || depth > 4) n_children = 0;

  A.buffer_lists.push_back(std::make_unique<std::vector<const void*>>(static_cast<std::size_t>(n_buffers), nullptr));
  auto& buffers = *A.buffer_lists.back();
  const bool var = format == "u" || format == "z" || format == "U" || format == "Z";
  const bool large = format == "U" || format == "Z";
  for (std::int64_t b = 0; b < n_buffers; ++b) {
    if (in.byte() % 8 == 0) continue;  // a null buffer
    if (b == 1 && var) {
      // Offsets: small steps from the input, sometimes backwards; the data buffer fits the largest.
      std::int64_t at = static_cast<std::int8_t>(in.byte()) % 3 == 0 ? -1 : 0, max = 0;
      auto* off = A.block(static_cast<std::size_t>(elements + 1) * 8, in, false);
      for (std::int64_t i = 0; i <= elements; ++i) {
        const std::int8_t step = static_cast<std::int8_t>(in.byte());
        at += step < -120 ? step : (step & 7);
        max = std::max(max, at);
        if (large) std::memcpy(off + 8 * i, &at, 8);
        else { auto v = static_cast<std::int32_t>(at); std::memcpy(off + 4 * i, &v, 4); }
      }
      buffers[1] = off;
      if (n_buffers > 2) buffers[2] = A.block(static_cast<std::size_t>(max) + 1, in, true);
      ++b;
      continue;
    }
    if ((format == "vu" || format == "vz") && b == n_buffers - 1 && n_buffers >= 3) {
      // The sizes of the variadic buffers: what the harness allocated.
      auto* sizes = A.block(static_cast<std::size_t>(n_buffers) * 8, in, false);
      for (std::int64_t v = 2; v < n_buffers - 1; ++v) {
        std::int64_t size = 64;
        std::memcpy(sizes + 8 * (v - 2), &size, 8);
      }
      buffers[static_cast<std::size_t>(b)] = sizes;
      continue;
    }
    const std::size_t bytes = (format == "vu" || format == "vz") && b >= 2 ? 64 : static_cast<std::size_t>(elements) * 16;
    buffers[static_cast<std::size_t>(b)] = A.block(bytes, in, true);
  }

  A.schema_lists.push_back(std::make_unique<std::vector<tb::arrow_schema*>>());
  A.array_lists.push_back(std::make_unique<std::vector<tb::arrow_array*>>());
  auto& schema_children = *A.schema_lists.back();
  auto& array_children = *A.array_lists.back();
  for (std::int64_t c = 0; c < n_children; ++c) {
    A.schemas.push_back(std::make_unique<tb::arrow_schema>());
    A.arrays.push_back(std::make_unique<tb::arrow_array>());
    schema_children.push_back(A.schemas.back().get());
    array_children.push_back(A.arrays.back().get());
    build(A, in, *schema_children.back(), *array_children.back(), depth + 1);
  }
  tb::arrow_schema* dict_schema = nullptr;
  tb::arrow_array* dict_array = nullptr;
  if (flags & 16 && depth < 4) {
    A.schemas.push_back(std::make_unique<tb::arrow_schema>());
    A.arrays.push_back(std::make_unique<tb::arrow_array>());
    dict_schema = A.schemas.back().get();
    dict_array = A.arrays.back().get();
    build(A, in, *dict_schema, *dict_array, depth + 1);
    if (flags & 32) dict_array = nullptr;  // a schema dictionary without an array one
  }
  s = tb::arrow_schema{format_text, name_text, nullptr,
                       static_cast<std::int64_t>(flags & 7), n_children,
                       (flags & 64) && n_children ? nullptr : schema_children.data(), dict_schema,
                       (flags & 128) && (in.byte() & 1) ? nullptr : no_release_schema, nullptr};
  a = tb::arrow_array{length, null_count, offset, n_buffers, n_children, buffers.data(), array_children.data(),
                      dict_array, no_release_array, nullptr};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in{data, size};
  arena A;
  tb::arrow_schema schema{};
  tb::arrow_array array{};
  build(A, in, schema, array, 0);
  try {
    tb::validate_arrow(schema, array, "fuzz");
  } catch (const tb::error&) {
  }
  try {
    tb::arrow_import_options options;
    if (in.byte() & 1) options.fill_value = 0;
    auto columns = tb::import_arrow_columns(&schema, &array, options);
    for (auto& c : columns) (void)c.values.contiguous();
  } catch (const tb::error&) {
  }
  return 0;
}
