// Casting rules, the strided driver around the contiguous kernels, checked casts, and the choice
// of instruction set.

#include "tensorbridge/cast/cast.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

#include "cast/convert_internal.hpp"
#include "cast/interleave_internal.hpp"
#include "cast/kernels_internal.hpp"
#include "core/dispatch_internal.hpp"
#include "core/parallel_internal.hpp"
#include "core/strided_internal.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#include <emmintrin.h>
#include <xmmintrin.h>
#define TB_CAST_X86 1
#endif

namespace tb {

// ---- casting rules --------------------------------------------------------------------------

std::string_view to_string(casting rule) noexcept {
  switch (rule) {
    case casting::no: return "no";
    case casting::equiv: return "equiv";
    case casting::safe: return "safe";
    case casting::same_kind: return "same_kind";
    case casting::unsafe: return "unsafe";
  }
  return "unknown";
}

casting casting_from_name(std::string_view name) {
  for (casting c : {casting::no, casting::equiv, casting::safe, casting::same_kind, casting::unsafe})
    if (to_string(c) == name) return c;
  fail(error_kind::value, "unknown casting rule \"", name,
       "\"; expected one of \"no\", \"equiv\", \"safe\", \"same_kind\", \"unsafe\"");
}

namespace {

// NumPy's order of kinds for same_kind: a cast may go up the list, never down.
int kind_rank(dtype_kind k) noexcept {
  switch (k) {
    case dtype_kind::boolean: return 0;
    case dtype_kind::unsigned_int: return 1;
    case dtype_kind::signed_int: return 2;
    case dtype_kind::floating: return 3;
    case dtype_kind::complex: return 4;
  }
  return 5;
}

// True if every value of `from` is a value of `to` (NumPy's "safe"). `digits` counts value bits
// (int8: 7, uint8: 8, float16: 11), so digit comparisons decide every integer and float pair.
bool is_safe(dtype from, dtype to) noexcept {
  const dtype_info& a = info(from);
  const dtype_info& b = info(to);
  if (from == to || a.kind == dtype_kind::boolean) return true;
  if (b.kind == dtype_kind::boolean) return false;
  if (is_integer(from)) {
    if (is_integer(to)) return !(a.kind == dtype_kind::signed_int && b.kind == dtype_kind::unsigned_int) && b.digits >= a.digits;
    // Into a float whose mantissa holds every value; NumPy also calls (u)int64 -> float64 and
    // complex128 safe although values above 2^53 round, and tensorbridge agrees with NumPy.
    return b.digits >= a.digits || b.digits == 53;
  }
  if (is_integer(to)) return false;                      // from a float or complex
  if (is_complex(from) && !is_complex(to)) return false;  // drops the imaginary part
  return b.digits >= a.digits && b.max_exponent >= a.max_exponent;
}

}  // namespace

bool can_cast(dtype from, dtype to, casting rule) noexcept {
  if (from == to) return true;
  switch (rule) {
    case casting::no:
    case casting::equiv: return false;
    case casting::safe: return is_safe(from, to);
    case casting::same_kind: return is_safe(from, to) || kind_rank(info(to).kind) >= kind_rank(info(from).kind);
    case casting::unsafe: return true;
  }
  return false;
}

void cast_options::validate() const {
  switch (rule) {
    case casting::no:
    case casting::equiv:
    case casting::safe:
    case casting::same_kind:
    case casting::unsafe: return;
  }
  fail(error_kind::value, "cast_options: invalid casting rule number ", static_cast<int>(rule));
}

// ---- instruction-set dispatch ---------------------------------------------------------------

namespace detail {

std::string_view to_string(cast_target target) noexcept {
  switch (target) {
    case cast_target::scalar: return "scalar";
    case cast_target::avx2: return "avx2";
    case cast_target::avx512: return "avx512";
  }
  return "unknown";
}

cast_target cast_target_from_name(std::string_view name) {
  for (cast_target t : {cast_target::scalar, cast_target::avx2, cast_target::avx512})
    if (to_string(t) == name) return t;
  fail(error_kind::value, "unknown cast target \"", name, "\"; expected \"scalar\", \"avx2\" or \"avx512\"");
}

#if TB_CAST_X86
namespace {
// Asked of CPUID directly: clang 14 does not know "f16c" as a __builtin_cpu_supports feature.
bool has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}
}  // namespace
#endif

std::vector<cast_target> available_cast_targets() {
  std::vector<cast_target> out{cast_target::scalar};
#if TB_CAST_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c()) {
    out.push_back(cast_target::avx2);
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
      out.push_back(cast_target::avx512);
  }
#endif
  return out;
}

namespace {

const cast_kernel_table& table_of(cast_target target) {
  switch (target) {
#if TB_CAST_X86
    case cast_target::avx2: return avx2_cast_kernels();
    case cast_target::avx512: return avx512_cast_kernels();
#endif
    default: return scalar_cast_kernels();
  }
}

struct active_state {
  std::atomic<cast_target> target;
  std::atomic<const cast_kernel_table*> table;
  active_state() {
    cast_target best = available_cast_targets().back();
    target = best;
    table = &table_of(best);
  }
};

active_state& active() {
  static active_state state;
  return state;
}

}  // namespace

void set_cast_target(cast_target target) {
  auto targets = available_cast_targets();
  if (std::find(targets.begin(), targets.end(), target) == targets.end()) {
    std::string names;
    for (auto t : targets) names += (names.empty() ? "" : ", ") + std::string(to_string(t));
    fail(error_kind::value, "cast target \"", to_string(target), "\" is not available on this CPU or build; available: ",
         names);
  }
  active().table = &table_of(target);
  active().target = target;
}

cast_target active_cast_target() noexcept { return active().target; }

const cast_kernel_table& active_cast_kernels() noexcept { return *active().table.load(std::memory_order_acquire); }

}  // namespace detail

// ---- checked casts --------------------------------------------------------------------------

namespace {

using detail::loss;

template <class T>
std::string format_value(T v) {
  using detail::is_complex_v;
  using detail::is_small_float_v;
  if constexpr (is_small_float_v<T>) {
    return format_value(detail::to_float(v));
  } else if constexpr (is_complex_v<T>) {
    std::string im = format_value(v.imag());
    std::string out = "(";
    out += format_value(v.real());
    if (im[0] != '-') out += '+';
    out += im;
    out += "j)";
    return out;
  } else if constexpr (std::is_same_v<T, bool>) {
    return v ? "True" : "False";
  } else if constexpr (std::is_floating_point_v<T>) {
    if (v != v) return "nan";
    if (v == std::numeric_limits<T>::infinity()) return "inf";
    if (v == -std::numeric_limits<T>::infinity()) return "-inf";
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
    return std::string(buf, r.ptr);
  } else {
    return std::to_string(v);  // int8 prints as a number, not a character
  }
}

std::string format_index(const shape_t& shape, std::int64_t flat) {
  if (shape.empty()) return "()";
  shape_t index(shape.size());
  for (std::size_t k = shape.size(); k-- > 0;) {
    index[k] = flat % shape[k];
    flat /= shape[k];
  }
  std::string out = "(";
  for (std::size_t k = 0; k < index.size(); ++k) out += (k ? ", " : "") + std::to_string(index[k]);
  return out + (index.size() == 1 ? ",)" : ")");
}

template <class T>
std::string range_of() {
  if constexpr (detail::is_int_v<T>)
    return detail::cat("[", std::to_string(std::numeric_limits<T>::min()), ", ",
                       std::to_string(std::numeric_limits<T>::max()), "]");
  else if constexpr (std::is_same_v<T, detail::half>)
    return "[-65504, 65504]";
  else if constexpr (std::is_same_v<T, detail::bfloat16>)
    return "[-3.3895314e+38, 3.3895314e+38]";
  else if constexpr (detail::is_complex_v<T>)
    return range_of<typename T::value_type>();
  else
    return detail::cat("[", format_value(std::numeric_limits<T>::lowest()), ", ",
                       format_value(std::numeric_limits<T>::max()), "]");
}

// Finds the first element of `src` (C order) that the cast From -> To would lose, scanning in
// parallel; returns its flat index or -1.
template <class To, class From>
std::int64_t first_loss(const tensor& src, loss& what) {
  const shape_t shape = src.ndim() == 0 ? shape_t{1} : src.shape();
  const shape_t strides = src.ndim() == 0 ? shape_t{0} : detail::byte_strides(src);
  const std::size_t nd = shape.size();
  const auto* base = static_cast<const std::byte*>(src.data());
  std::atomic<std::int64_t> best{std::numeric_limits<std::int64_t>::max()};
  std::atomic<int> best_loss{0};
  std::mutex best_mutex;
  detail::parallel_for(src.numel(), 1 << 16, [&](std::int64_t begin, std::int64_t end) {
    shape_t index(nd);
    const std::byte* p = base;
    std::int64_t rest = begin;
    for (std::size_t k = nd; k-- > 0;) {
      index[k] = rest % shape[k];
      rest /= shape[k];
      p += index[k] * strides[k];
    }
    const std::int64_t inner = shape[nd - 1], step = strides[nd - 1];
    for (std::int64_t flat = begin; flat < end;) {
      if (best.load(std::memory_order_relaxed) < flat) return;  // an earlier chunk already failed
      std::int64_t run = std::min(end - flat, inner - index[nd - 1]);
      for (std::int64_t i = 0; i < run; ++i) {
        From v;
        std::memcpy(&v, p + i * step, sizeof(From));
        loss l = detail::check_loss<To>(v);
        if (l != loss::none) {
          std::lock_guard lock(best_mutex);
          if (flat + i < best.load()) {
            best = flat + i;
            best_loss = static_cast<int>(l);
          }
          return;
        }
      }
      flat += run;
      p += run * step;
      index[nd - 1] += run;
      for (std::size_t k = nd; k-- > 1 && index[k] == shape[k];) {  // carry into outer dimensions
        p += strides[k - 1] - shape[k] * strides[k];
        index[k] = 0;
        ++index[k - 1];
      }
    }
  });
  what = static_cast<loss>(best_loss.load());
  std::int64_t b = best.load();
  return b == std::numeric_limits<std::int64_t>::max() ? -1 : b;
}

template <class To, class From>
void check_cast(const tensor& src, dtype to) {
  loss what = loss::none;
  std::int64_t flat = first_loss<To, From>(src, what);
  if (flat < 0) return;
  const shape_t& shape = src.shape();
  std::int64_t rest = flat;
  const std::byte* p = static_cast<const std::byte*>(src.data());
  for (std::size_t k = shape.size(); k-- > 0;) {
    p += (rest % shape[k]) * src.strides()[k] * static_cast<std::int64_t>(src.itemsize());
    rest /= shape[k];
  }
  From v;
  std::memcpy(&v, p, sizeof(From));
  const std::string where = detail::cat("checked cast ", name(src.dtype()), " -> ", name(to), ": element at index ",
                                        format_index(shape, flat), " (flat index ", flat, ") is ", format_value(v));
  switch (what) {
    case loss::nan:
      fail(error_kind::value, where, ", which ", name(to),
           " cannot represent; replace NaNs first (e.g. numpy.nan_to_num) or pass checked=False (NaN becomes 0)");
    case loss::imaginary:
      fail(error_kind::value, where, ", whose imaginary part a cast to ", name(to),
           " would drop; take the real part explicitly or pass checked=False");
    case loss::overflow:
      if constexpr (detail::is_int_v<To>)
        fail(error_kind::overflow, where, ", outside the range of ", name(to), " ", range_of<To>(),
             "; clip the data first or pass checked=False (",
             std::is_floating_point_v<From> || detail::is_small_float_v<From> || detail::is_complex_v<From>
                 ? "out-of-range values saturate"
                 : "values wrap around",
             ")");
      else
        fail(error_kind::overflow, where, ", which overflows to infinity in ", name(to), " (finite range ",
             range_of<To>(), "); scale the data or pass checked=False");
    case loss::none: break;
  }
}

// ---- the strided driver ---------------------------------------------------------------------

#if TB_CAST_X86
// The kernels convert with the default rounding (nearest even) and without flush-to-zero; a
// caller (or a library it loaded) may have changed MXCSR on this thread, so the kernels run
// under the default and the caller's state is restored afterwards.
class fp_env_guard {
 public:
  fp_env_guard() : saved_(_mm_getcsr()) {
    if ((saved_ & ~0x3fu) != 0x1f80u) _mm_setcsr(0x1f80u);
  }
  ~fp_env_guard() {
    if ((saved_ & ~0x3fu) != 0x1f80u) _mm_setcsr(saved_);
  }
  fp_env_guard(const fp_env_guard&) = delete;
  fp_env_guard& operator=(const fp_env_guard&) = delete;

 private:
  unsigned saved_;
};
#else
struct fp_env_guard {};
#endif

// Elements per block when a run is staged through L1: 16 KiB of the widest dtype.
constexpr std::int64_t block_elems = 1024;

// Destinations of at least detail::stream_threshold bytes are written with non-temporal stores,
// which is what lets a cast reach memcpy's bandwidth (glibc's memcpy streams above a similar size).
using detail::stream_threshold;

#if TB_CAST_X86
// Copies `n` bytes from an L1-resident block to `dst` with non-temporal stores.
void stream_copy(std::byte* dst, const std::byte* src, std::size_t n) {
  std::size_t head = std::min(n, static_cast<std::size_t>(-reinterpret_cast<std::uintptr_t>(dst) & 15u));
  std::memcpy(dst, src, head);
  std::size_t i = head;
  for (; i + 64 <= n; i += 64)
    for (std::size_t k = 0; k < 64; k += 16)
      _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i + k),
                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + k)));
  for (; i + 16 <= n; i += 16)
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i), _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
  std::memcpy(dst + i, src + i, n - i);
}
void stream_fence() { _mm_sfence(); }
#else
void stream_copy(std::byte* dst, const std::byte* src, std::size_t n) { std::memcpy(dst, src, n); }
void stream_fence() {}
#endif

// Converts one run. Contiguous runs go straight to the kernel, and so do runs of every second
// element where the pair has a fused kernel for them; other strided runs are gathered into an
// L1-resident block (with the vectorised gather of the active instruction set, so no pair falls
// to a per-element loop), converted by the contiguous kernel, and scattered, so the copy and the
// cast remain one pass over memory. With `stream`, dense output goes through an L1 block and non-temporal
// stores.
void cast_run(detail::cast_kernel kernel, detail::cast_kernel every_other, detail::gather_kernel gather,
              std::size_t src_size, std::size_t dst_size, const std::byte* s, std::int64_t src_step, std::byte* d,
              std::int64_t dst_step, std::int64_t n, bool stream) {
  fp_env_guard guard;
  bool gather_first = src_step != static_cast<std::int64_t>(src_size);
  const bool dst_dense = dst_step == static_cast<std::int64_t>(dst_size);
  stream = stream && dst_dense;
  if (every_other && src_step == 2 * static_cast<std::int64_t>(src_size)) {  // x[..., ::2]: one fused pass
    kernel = every_other;
    gather_first = false;
  }
  if (!gather_first && dst_dense && !stream) {
    kernel(s, d, n);
    return;
  }
  alignas(64) std::byte src_block[block_elems * 16];
  alignas(64) std::byte dst_block[block_elems * 16];
  for (std::int64_t i = 0; i < n; i += block_elems) {
    const std::int64_t m = std::min(block_elems, n - i);
    const std::byte* from = s + i * src_step;
    if (gather_first) {
      gather(from, src_step, src_block, m);
      from = src_block;
    }
    std::byte* into = dst_dense && !stream ? d + i * dst_step : dst_block;
    kernel(from, into, m);
    if (stream) stream_copy(d + i * dst_step, dst_block, static_cast<std::size_t>(m) * dst_size);
    else if (!dst_dense)
      detail::copy_run(dst_block, static_cast<std::int64_t>(dst_size), d + i * dst_step, dst_step, m, dst_size);
  }
  if (stream) stream_fence();  // make the streamed lines visible before the join
}

// Column j's n converted elements (dense in `block`) into column j of a tile of rows of k elements.
template <std::size_t Size>
void scatter_column(const std::byte* block, std::int64_t n, std::int64_t k, std::int64_t j, std::byte* tile) {
  std::byte* at = tile + static_cast<std::size_t>(j) * Size;
  const std::size_t row = static_cast<std::size_t>(k) * Size;
  // memcpy of Size bytes: a plain move once compiled, without reading floats as integers.
  for (std::int64_t r = 0; r < n; ++r, at += row) std::memcpy(at, block + static_cast<std::size_t>(r) * Size, Size);
}

using scatter_fn = void (*)(const std::byte*, std::int64_t, std::int64_t, std::int64_t, std::byte*);

scatter_fn scatter_for(std::size_t size) {
  switch (size) {
    case 1: return &scatter_column<1>;
    case 2: return &scatter_column<2>;
    case 4: return &scatter_column<4>;
    case 8: return &scatter_column<8>;
    default: return &scatter_column<16>;
  }
}

}  // namespace

void detail::interleave_cast(std::span<const interleave_source> sources, dtype to, std::int64_t r0, std::int64_t r1,
                             std::byte* dst, bool stream) {
  const auto k = static_cast<std::int64_t>(sources.size());
  if (k == 0 || r1 <= r0) return;
  const std::size_t size = itemsize(to);
  const std::size_t row_bytes = static_cast<std::size_t>(k) * size;
  // A tile of whole rows fits L1 (and at most block_elems rows, the column blocks' size).
  // Measured on 50 float64 columns -> float32: 8 KiB tiles take ~20% less CPU than 24 KiB ones.
  constexpr std::size_t tile_bytes = 8 << 10;
  const std::int64_t rows = std::clamp<std::int64_t>(static_cast<std::int64_t>(tile_bytes / row_bytes), 1, block_elems);
  const detail::cast_kernel_table& table = detail::active_cast_kernels();
  std::vector<detail::cast_kernel> kernels;
  std::vector<detail::gather_kernel> gathers;  // null for a dense column
  for (const interleave_source& s : sources) {
    kernels.push_back(table.get(s.from, to));
    const auto from_size = static_cast<std::int64_t>(itemsize(s.from));
    gathers.push_back(s.step == from_size ? nullptr : table.gather(itemsize(s.from)));
  }
  const scatter_fn scatter = scatter_for(size);
  std::vector<std::byte> tile_buffer(static_cast<std::size_t>(rows) * row_bytes + 64);
  std::byte* tile = tile_buffer.data() + (-reinterpret_cast<std::uintptr_t>(tile_buffer.data()) & 63u);
  alignas(64) std::byte src_block[block_elems * 16];
  alignas(64) std::byte dst_block[block_elems * 16];
  // 4-byte outputs: eight columns are converted into a panel and transposed into the tile
  // together (a fifth of the CPU time went to one scalar store per element).
  const std::int64_t panel_columns = size == 4 ? k / 8 * 8 : 0;
  alignas(64) std::byte panel[8 * block_elems * 4];
  fp_env_guard guard;
  for (std::int64_t r = r0; r < r1; r += rows) {
    const std::int64_t n = std::min(rows, r1 - r);
    for (std::int64_t j = 0; j < k; ++j) {
      const interleave_source& s = sources[static_cast<std::size_t>(j)];
      const std::byte* from = s.data + r * s.step;
      // The lines of this column's tile some 2 KiB ahead (dense columns): dozens of columns are
      // too many streams for the hardware prefetchers; without this, ~2x the CPU time. Into L2
      // (hint T1), not L1: 50 columns x 2 KiB would evict the tile and the panel from L1, which
      // took 1.9x the CPU time of this (48 vs 25 ms for 50 x 1M float64 -> float32 on one core).
      if (!gathers[static_cast<std::size_t>(j)]) {  // dense: step is the element size
        const std::int64_t ahead = std::max<std::int64_t>(n, 2048 / s.step);
        const std::int64_t span = std::min(n, r1 - r - ahead) * s.step;
        for (std::int64_t b = 0; b < span; b += 64) __builtin_prefetch(from + ahead * s.step + b, 0, 2);
      }
      if (gathers[static_cast<std::size_t>(j)]) {
        gathers[static_cast<std::size_t>(j)](from, s.step, src_block, n);
        from = src_block;
      }
      if (j < panel_columns) {
        kernels[static_cast<std::size_t>(j)](from, panel + static_cast<std::size_t>(j % 8 * n) * 4, n);
        if (j % 8 == 7) table.transpose8(panel, n, tile + static_cast<std::size_t>(j - 7) * 4, row_bytes);
        continue;
      }
      kernels[static_cast<std::size_t>(j)](from, dst_block, n);
      scatter(dst_block, n, k, j, tile);
    }
    std::byte* out = dst + static_cast<std::size_t>(r) * row_bytes;
    const std::size_t bytes = static_cast<std::size_t>(n) * row_bytes;
    if (stream) stream_copy(out, tile, bytes);
    else std::memcpy(out, tile, bytes);
  }
  if (stream) stream_fence();  // make the streamed lines visible before the caller's join
}

namespace {

// [lowest, highest) byte addresses that `t` touches.
std::pair<std::uintptr_t, std::uintptr_t> byte_extent(const tensor& t) {
  auto lo = reinterpret_cast<std::uintptr_t>(t.data()), hi = lo;
  for (std::int64_t k = 0; k < t.ndim(); ++k) {
    std::int64_t span = (t.shape()[k] - 1) * t.strides()[k] * static_cast<std::int64_t>(t.itemsize());
    if (span < 0) lo -= static_cast<std::uintptr_t>(-span);
    else hi += static_cast<std::uintptr_t>(span);
  }
  return {lo, hi + t.itemsize()};
}

bool overlaps(const tensor& a, const tensor& b) {
  if (a.numel() == 0 || b.numel() == 0) return false;
  auto [a_lo, a_hi] = byte_extent(a);
  auto [b_lo, b_hi] = byte_extent(b);
  return a_lo < b_hi && b_lo < a_hi;
}

// Throws the error that names the rule, the pair, and the rule that would allow it.
void require_rule(dtype from, dtype to, casting rule) {
  if (!can_cast(from, to, rule))
    fail(error_kind::type, "cannot cast ", name(from), " to ", name(to), " under casting=\"", to_string(rule), "\"",
         can_cast(from, to, casting::same_kind) ? "; casting=\"same_kind\" allows it" : "; casting=\"unsafe\" allows it");
}

}  // namespace

void cast_into(const tensor& src, const tensor& dst, const cast_options& options) {
  options.validate();
  if (src.shape() != dst.shape())
    fail(error_kind::value, "cast_into: source ", src.describe(), " and destination ", dst.describe(),
         " differ in shape");
  if (dst.read_only()) fail(error_kind::value, "cast_into: the destination ", dst.describe(), " is read-only");
  if (dst.has_overlap())
    fail(error_kind::value, "cast_into: the destination ", dst.describe(),
         " has a zero stride, so several elements would share one address; pass a writable array without "
         "broadcast dimensions");
  require_rule(src.dtype(), dst.dtype(), options.rule);
  if (src.numel() == 0) return;
  // A "safe" pair cannot lose anything that checked mode refuses, so it needs no scan.
  if (options.checked && !can_cast(src.dtype(), dst.dtype(), casting::safe))
    detail::visit_dtype(src.dtype(), [&](auto src_tag) {
      detail::visit_dtype(dst.dtype(), [&](auto dst_tag) {
        check_cast<typename decltype(dst_tag)::type, typename decltype(src_tag)::type>(src, dst.dtype());
      });
    });
  if (overlaps(src, dst)) {  // read everything before anything is written
    cast_into(src.copy(), dst, cast_options{casting::unsafe, false});
    return;
  }
  if (src.dtype() == dst.dtype()) {
    copy_into(src, dst);
    return;
  }
  const detail::cast_kernel_table& table = detail::active_cast_kernels();
  const detail::cast_kernel kernel = table.get(src.dtype(), dst.dtype());
  const detail::cast_kernel every_other = table.get_every_other(src.dtype(), dst.dtype());
  const detail::gather_kernel gather = table.gather(src.itemsize());
  const auto layout = detail::make_row_layout(src, dst);
  const std::size_t src_size = src.itemsize(), dst_size = dst.itemsize();
  const bool stream = dst.nbytes() >= stream_threshold;
  detail::for_each_row(layout, static_cast<const std::byte*>(src.data()), static_cast<std::byte*>(dst.data()),
                       src.nbytes() + dst.nbytes(), [&](const std::byte* s, std::byte* d, std::int64_t n) {
                         cast_run(kernel, every_other, gather, src_size, dst_size, s, layout.src_step, d,
                                  layout.dst_step, n, stream);
                       });
}

tensor cast(const tensor& src, dtype to, const cast_options& options) {
  options.validate();
  require_rule(src.dtype(), to, options.rule);  // before allocating the output
  tensor out = tensor::empty(src.shape(), to);
  cast_into(src, out, options);
  return out;
}

}  // namespace tb
