#pragma once
/// @file dlpack.hpp
/// DLPack 1.x interchange: the structs, ABI-identical to the DLPack specification (written here
/// from the spec, in tensorbridge's naming), and conversion to and from `tb::tensor`.

#include <cstdint>
#include <optional>

#include "tensorbridge/core/tensor.hpp"

namespace tb {

/// The DLPack ABI version tensorbridge produces (`DLPACK_MAJOR_VERSION`, `DLPACK_MINOR_VERSION`).
inline constexpr std::uint32_t dlpack_major_version = 1;
inline constexpr std::uint32_t dlpack_minor_version = 1;

/// `DLPackVersion`.
struct dlpack_version {
  std::uint32_t major;  ///< incompatible changes bump this
  std::uint32_t minor;  ///< compatible additions bump this
};

/// `DLDevice`: device type (DLPack numbering, see `tb::device_type`) and ordinal.
struct dlpack_device {
  std::int32_t device_type;  ///< `DLDeviceType`, a C enum: 32 bits
  std::int32_t device_id;    ///< ordinal, 0 for the CPU
};

/// `DLDataType`: code (`tb::dl_code`), bits per lane, lanes (1 for every tensorbridge dtype).
struct dlpack_dtype {
  std::uint8_t code;
  std::uint8_t bits;
  std::uint16_t lanes;
};

/// `DLTensor`: a strided view; memory is not owned.
struct dlpack_tensor {
  void* data;                 ///< base address; element 0 is at data + byte_offset
  dlpack_device device;           ///< where `data` lives
  std::int32_t ndim;          ///< number of dimensions
  dlpack_dtype dtype;         ///< element type
  std::int64_t* shape;        ///< ndim extents, owned by the managed struct
  std::int64_t* strides;      ///< ndim strides in elements (not bytes); null means compact row-major
  std::uint64_t byte_offset;  ///< bytes from `data` to element 0
};

/// `DLManagedTensor`: the legacy (pre-1.0, unversioned) managed tensor.
struct dlpack_managed_tensor {
  dlpack_tensor dl_tensor;                     ///< the view
  void* manager_ctx;                       ///< producer's context
  void (*deleter)(dlpack_managed_tensor* self);  ///< the consumer calls it once, when done; may be null
};

/// `DLPACK_FLAG_BITMASK_READ_ONLY`: the consumer must not write through the view.
inline constexpr std::uint64_t dlpack_flag_read_only = 1ull << 0;
/// `DLPACK_FLAG_BITMASK_IS_COPIED`: the producer made a copy for this export.
inline constexpr std::uint64_t dlpack_flag_is_copied = 1ull << 1;
/// `DLPACK_FLAG_BITMASK_IS_SUBBYTE_TYPE_PADDED`: sub-byte types are padded to a byte.
inline constexpr std::uint64_t dlpack_flag_is_subbyte_type_padded = 1ull << 2;

/// `DLManagedTensorVersioned`: the DLPack 1.x managed tensor.
struct dlpack_managed_tensor_versioned {
  dlpack_version version;                                  ///< the producer's ABI version
  void* manager_ctx;                                   ///< producer's context
  void (*deleter)(dlpack_managed_tensor_versioned* self);  ///< the consumer calls it once; may be null
  std::uint64_t flags;                                 ///< `dlpack_flag_*` bits
  dlpack_tensor dl_tensor;                                 ///< the view
};

/// How an export treats read-only memory and copies: `plan_export` decides, for a consumer with
/// these limits, as for every other export.
///
/// A consumer may ignore DLPack's READ_ONLY flag (PyTorch does) and the legacy struct cannot carry
/// it, so unless `consumer_respects_read_only`, read-only memory is never exposed to writes:
/// - a read-only file map is exported as a new private copy-on-write map of the same pages
///   (`private_file_view`), still flagged READ_ONLY: O(1), no data copied; a consumer that
///   ignores the flag writes pages of this process only, never the file nor `t`;
/// - any other read-only memory is exported as a writable copy, flagged IS_COPIED, or refused
///   with `tb::error` (buffer) when `allow_copy` is false.
struct dlpack_export_options {
  /// The consumer never writes memory it was given read-only (NumPy honours the flag; TensorFlow
  /// and JAX arrays are immutable): read-only memory is then shared as it is.
  bool consumer_respects_read_only = false;
  bool copy = false;        ///< export a fresh copy whatever the memory (`copy=True`)
  bool allow_copy = true;   ///< false (`copy=False`): throw rather than copy
  bool is_copied = false;   ///< `t` is already a fresh copy made for this export (sets IS_COPIED)
  /// The device the consumer asked for (`dl_device=`); none: wherever `t` is. Another device
  /// than `t`'s throws `tb::error` (buffer): tensorbridge makes no cross-device copies here.
  std::optional<tb::device> device;
};

/// Exports `t` as a DLPack 1.x managed tensor that keeps `t`'s storage alive until its deleter
/// runs. The READ_ONLY flag is set when `t` is read-only and no copy was exported (see
/// `dlpack_export_options` for what is exported). The caller owns the result and must call its
/// deleter exactly once.
dlpack_managed_tensor_versioned* to_dlpack_versioned(const tensor& t, const dlpack_export_options& options = {});

/// Exports `t` as a legacy unversioned managed tensor (for consumers without DLPack 1.x), which
/// cannot say "read-only": read-only memory is shared only if `consumer_respects_read_only`
/// (the consumer never writes, as TensorFlow), else treated as `dlpack_export_options` says.
dlpack_managed_tensor* to_dlpack_legacy(const tensor& t, const dlpack_export_options& options = {});

/// Imports a DLPack 1.x tensor, taking ownership: its deleter runs exactly once, when the last
/// view of the result dies (or at once if this throws). The READ_ONLY flag becomes
/// `tensor::read_only()`. Throws `tb::error` (type) for a dtype tensorbridge lacks, and (value)
/// for a major version other than 1.
tensor from_dlpack(dlpack_managed_tensor_versioned* managed);

/// Imports a legacy unversioned DLPack tensor, taking ownership as above. `read_only` tells
/// whether the producer forbade writes (the struct cannot say it).
tensor from_dlpack(dlpack_managed_tensor* managed, bool read_only = false);

}  // namespace tb
