// The exhaustive check of the float32 -> float16/bfloat16 kernels of every compiled target over
// all 2^32 inputs. Labelled `slow` so the sanitizer run skips it.

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <vector>

#include "cast/convert_internal.hpp"
#include "cast/kernels_internal.hpp"
#include "core/parallel_internal.hpp"

namespace {

using tb::dtype;
using tb::detail::cast_target;

const tb::detail::cast_kernel_table& table_of(cast_target t) {
#if defined(__x86_64__)
  if (t == cast_target::avx2) return tb::detail::avx2_cast_kernels();
  if (t == cast_target::avx512) return tb::detail::avx512_cast_kernels();
#endif
  return tb::detail::scalar_cast_kernels();
}

// Every float32 bit pattern through the float16 and bfloat16 kernels of every vector target
// equals the reference, bit for bit (NaN payloads included). The scalar target's kernel is the
// reference itself in a loop (test_cast compares it on every pair).
TEST(CastExhaustive, Float32ToFloat16AndBfloat16AllTargetsAllInputs) {
  const auto targets = tb::detail::available_cast_targets();
  constexpr std::int64_t block = 1 << 16;
  std::atomic<std::int64_t> mismatches{0};
  std::atomic<std::uint32_t> first_bad{0};
  tb::detail::parallel_for((std::int64_t{1} << 32) / block, 1, [&](std::int64_t b0, std::int64_t b1) {
    std::vector<float> in(block);
    std::vector<std::uint16_t> ref_h(block), ref_b(block), out(block);
    for (std::int64_t b = b0; b < b1; ++b) {
      for (std::int64_t i = 0; i < block; ++i) {
        auto x = static_cast<std::uint32_t>(b * block + i);
        std::memcpy(&in[static_cast<std::size_t>(i)], &x, 4);
        ref_h[static_cast<std::size_t>(i)] = tb::detail::narrow_float_bits<5, 10>(in[static_cast<std::size_t>(i)]);
        ref_b[static_cast<std::size_t>(i)] = tb::detail::narrow_float_bits<8, 7>(in[static_cast<std::size_t>(i)]);
      }
      for (cast_target t : targets) {
        if (t == cast_target::scalar) continue;
        const auto& table = table_of(t);
        for (auto [to, ref] : {std::pair{dtype::float16, &ref_h}, std::pair{dtype::bfloat16, &ref_b}}) {
          table.get(dtype::float32, to)(in.data(), out.data(), block);
          if (out != *ref) {
            for (std::int64_t i = 0; i < block; ++i)
              if (out[static_cast<std::size_t>(i)] != (*ref)[static_cast<std::size_t>(i)]) {
                first_bad = static_cast<std::uint32_t>(b * block + i);
                ++mismatches;
              }
          }
        }
      }
    }
  });
  EXPECT_EQ(mismatches.load(), 0) << "e.g. float32 bits 0x" << std::hex << first_bad.load();
}

}  // namespace
