// libFuzzer target for the .npy header parser and the in-memory .npy path (.npz members take it):
// any bytes must give a tensor, columns or a tb::error, never a crash, a hang or a sanitizer report.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "io/npy/npy_internal.hpp"
#include "tensorbridge/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  tb::npy_load_options options;
  options.void2_as_bfloat16 = size > 0 && (data[size - 1] & 1);
  options.max_header_size = 1 << 16;
  try {
    std::size_t total = tb::detail::npy_header_size(bytes.first(std::min<std::size_t>(size, 12)), size, "fuzz", options);
    tb::npy_header h = tb::detail::parse_npy_header(bytes.first(total), size, "fuzz", options);
    // The data is in the input: view it from an aligned copy, as an inflated .npz member is.
    auto storage = tb::storage::allocate(size);
    std::memcpy(storage->data(), data, size);
    if (h.is_structured()) {
      auto columns = tb::detail::npy_columns(h, storage, h.data_offset, false, options, "fuzz");
      for (auto& c : columns) (void)c.values.contiguous();
    } else {
      tb::tensor t = tb::detail::finish_npy_tensor(tb::detail::npy_view(h, storage, h.data_offset, false), h, options,
                                                   "fuzz");
      (void)t.contiguous();
    }
  } catch (const tb::error&) {
  }
  return 0;
}
