#pragma once
/// @file plan.hpp
/// Export planning: can a tensor be handed to a consumer (a framework, a DLPack importer) without
/// copying, and if not, why, and at what cost. `explain` in Python prints this plan, and every
/// conversion carries out exactly this plan.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tensorbridge/cast/cast.hpp"
#include "tensorbridge/core/tensor.hpp"

namespace tb {

/// What a consumer can alias without a copy. Defaults accept everything.
struct consumer_limits {
  std::string name = "tensorbridge";    ///< the consumer, for messages ("torch", "tensorflow")
  dtype_set dtypes = dtype_set::all();  ///< dtypes it can hold at all (others are refused)
  bool strided = true;                  ///< accepts any strides; false: compact row-major only
  bool negative_strides = true;         ///< accepts negative strides
  bool overlapping = true;              ///< accepts zero strides (broadcast views)
  bool read_only = true;                ///< can hold memory it must not write
  /// Why it cannot hold read-only memory (when `read_only` is false), completing "<name> ...".
  std::string read_only_gap = "has no read-only tensors";
  /// Its arrays are immutable and it assumes nobody changes them (TensorFlow, JAX): a zero-copy
  /// export then gets a note that later writes to the source show through.
  bool immutable = false;
  std::size_t alignment = 1;            ///< smallest address alignment it aliases, in bytes
  std::int64_t max_ndim = 1 << 30;      ///< most dimensions its arrays have (NumPy: 64); more are refused
};

/// `copy=` with the array API's meaning.
enum class copy_mode {
  if_needed,  ///< `copy=None`: share when possible
  always,     ///< `copy=True`: always a fresh buffer
  never,      ///< `copy=False`: share or raise
};

/// What the caller asks for.
struct export_request {
  consumer_limits consumer;              ///< the destination's limits
  std::optional<tb::dtype> dtype;        ///< target dtype; none keeps the source's
  copy_mode copy = copy_mode::if_needed; ///< copy policy
  casting rule = casting::same_kind;     ///< which dtype changes are allowed
  bool checked = false;                  ///< raise on NaN/inf/overflow instead of losing data
  tb::device device = cpu_device;        ///< target device
  /// The source holds Python numbers, which have no dtype of their own (NumPy's NEP 50): a
  /// requested `dtype` of a kind they fit (bool < integer < float < complex) is taken whatever
  /// `rule` says, checked, so `[1, 2]` becomes uint8 as `np.asarray([1, 2], dtype=np.uint8)`
  /// does and a value that does not fit raises.
  bool weak_values = false;
};

/// The plan for one export, decided without touching the data.
struct export_plan {
  bool zero_copy = true;             ///< the consumer will alias the source's memory
  std::vector<std::string> reasons;  ///< why a copy is needed (empty for zero-copy)
  std::size_t bytes_to_copy = 0;     ///< bytes written into the new buffer (0 for zero-copy)
  bool lossy = false;                ///< the dtype change can lose information
  tb::dtype from = tb::dtype::float32;  ///< source dtype
  tb::dtype to = tb::dtype::float32;    ///< result dtype
  bool read_only = false;            ///< the result must not be written (a read-only alias)
  /// Zero-copy through a new private copy-on-write map of the source's file (a read-only map
  /// going to a consumer that may write): writes through the result never reach the file.
  bool private_map = false;
  /// What the user should know about a plan that is carried out as asked (sharing with a
  /// consumer that assumes immutability, a private map), one sentence each.
  std::vector<std::string> notes;
  bool checked = false;              ///< the cast raises instead of losing data
  /// Empty if the plan can be carried out; else the reason it cannot (e.g. copy=never but a copy
  /// is needed), already phrased for the user. `error_kind` says which exception to raise.
  std::string error;
  tb::error_kind error_kind = tb::error_kind::value;

  /// "zero-copy" or "copy (...reasons...)", one line.
  std::string summary() const;
};

/// `t` over a private copy-on-write map of the same file pages (`storage::map_private_copy`),
/// writable, if `t` views a file mapped shared and read-only; else none. O(1), no data copied.
std::optional<tensor> private_file_view(const tensor& t);

/// Decides how to export `src` under `request`. Never throws for a plan that cannot be carried
/// out: that is reported in `export_plan::error`.
export_plan plan_export(const tensor& src, const export_request& request);

/// The same plan for memory described by `src` only (a foreign buffer not yet wrapped in a
/// tensor): what a binding asks before handing a framework's array straight to another.
export_plan plan_export(const layout_view& src, const export_request& request);

/// Carries out `plan` (made by `plan_export` for `src`): returns `src` itself for zero-copy (over
/// a private map of its file for `private_map`), or a new aligned C-contiguous buffer, cast in
/// the same pass. Throws `tb::error` if the plan has an
/// error.
tensor execute(const tensor& src, const export_plan& plan);

/// `execute(src, plan_export(src, request))`.
tensor export_tensor(const tensor& src, const export_request& request);

}  // namespace tb
