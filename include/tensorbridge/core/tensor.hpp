#pragma once
/// @file tensor.hpp
/// `tb::tensor`: a strided view over reference-counted storage.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <span>
#include <string>
#include <vector>

#include "tensorbridge/core/device.hpp"
#include "tensorbridge/core/dtype.hpp"
#include "tensorbridge/core/error.hpp"

namespace tb {

/// The alignment of every buffer tensorbridge allocates, in bytes (a cache line; what
/// TensorFlow and XLA require to alias a buffer instead of copying it).
inline constexpr std::size_t buffer_alignment = 64;

/// A block of memory and the means to release it.
///
/// - Owned storage is allocated by tensorbridge, `buffer_alignment`-aligned.
/// - Foreign storage (a NumPy array, a torch tensor, a memory map) is released by its deleter,
///   which runs exactly once, when the last tensor viewing it is destroyed.
class storage {
 public:
  /// Allocates `nbytes` (at least one cache line is reserved so the pointer is never null),
  /// aligned to `buffer_alignment`. The content is uninitialised.
  static std::shared_ptr<storage> allocate(std::size_t nbytes);

  /// Wraps foreign memory. `release` runs exactly once when the storage dies (it may be empty
  /// for memory that outlives every tensor, such as static data in tests).
  static std::shared_ptr<storage> wrap(void* data, std::size_t nbytes, std::function<void()> release);

  /// The memory map of a file that a storage views (see `wrap_file_mapping`).
  struct file_mapping {
    void* base = nullptr;           ///< the address mmap returned (page-aligned); null: not a mapping
    std::size_t length = 0;         ///< bytes mapped from `base`
    bool shared_read_only = false;  ///< MAP_SHARED and PROT_READ: every byte equals the file's
    /// A descriptor of the mapped file, open for reading while the storage lives (closed by the
    /// storage's release), so that bytes of the mapping can be read with `pread` instead of being
    /// touched; -1 when they cannot (copy-on-write mappings, whose written pages exist only in
    /// memory, or no descriptor was available).
    int fd = -1;
    std::uint64_t file_offset = 0;  ///< the byte offset in the file of `base`
    std::string source;             ///< the file (or `archive.npz:member`) for error messages
  };

  /// Wraps a memory map of a file, as `wrap` does, and records `mapping`, which lets readers
  /// turn an address of the mapping into (descriptor, file offset). `release` (which unmaps and
  /// closes `mapping.fd`) runs exactly once.
  static std::shared_ptr<storage> wrap_file_mapping(void* data, std::size_t nbytes, file_mapping mapping,
                                                    std::function<void()> release);

  /// The file mapping this storage views (`base` is null for any other memory).
  const file_mapping& mapping() const noexcept { return mapping_; }

  /// For a shared read-only file mapping (with its descriptor): a new storage mapping the same
  /// file pages privately (`MAP_PRIVATE`, readable and writable), at the same offsets. O(1): no
  /// data is read or copied; a write lands in a page of this process only and never reaches the
  /// file nor this storage. Null for any other memory, or if the system refuses the mapping.
  std::shared_ptr<storage> map_private_copy() const;

  ~storage();
  storage(const storage&) = delete;
  storage& operator=(const storage&) = delete;

  /// The first byte of the block.
  std::byte* data() const noexcept { return data_; }
  /// The size of the block in bytes (for foreign memory, as declared by the wrapper; 0 if unknown).
  std::size_t nbytes() const noexcept { return nbytes_; }
  /// True if tensorbridge allocated this block.
  bool owned() const noexcept { return owned_; }

  /// How many storages exist right now in this process (a leak counter for tests).
  static std::int64_t live_count() noexcept;

 private:
  storage(std::byte* data, std::size_t nbytes, bool owned, std::function<void()> release);
  std::byte* data_;
  std::size_t nbytes_;
  bool owned_;
  std::function<void()> release_;
  file_mapping mapping_{};
};

/// A shape or a list of strides.
using shape_t = std::vector<std::int64_t>;

/// A shape or strides as Python writes a tuple: "(2, 3)", "(5,)", "()".
std::string format_tuple(std::span<const std::int64_t> values);

/// The layout of a strided array without its memory: what deciding how to share it needs.
///
/// - Non-owning: `shape` and `strides` point into the caller's arrays, which must outlive it.
/// - Strides are in elements, as in `tensor`. `tensor::layout()` gives a tensor's; a binding
///   describes a foreign buffer in one without wrapping it (`plan_export` takes either).
struct layout_view {
  tb::dtype dtype = tb::dtype::float32;    ///< element type
  std::span<const std::int64_t> shape;     ///< elements per dimension
  std::span<const std::int64_t> strides;   ///< elements; may be zero or negative
  const void* data = nullptr;              ///< address of element 0
  tb::device device = cpu_device;          ///< where the memory is
  bool read_only = false;                  ///< the owner forbids writes
  bool file_map = false;                   ///< the memory maps a file (changes to the file show through)
  /// The memory is a shared, read-only map of a file with an open descriptor (it can be shared
  /// with a writer through a private copy-on-write map: `storage::map_private_copy`).
  bool shared_file_map = false;

  std::int64_t ndim() const noexcept { return static_cast<std::int64_t>(shape.size()); }
  /// The number of elements (1 for 0-d).
  std::int64_t numel() const noexcept;
  /// C order without gaps (size-1 dimensions and empty arrays are contiguous whatever their strides).
  bool is_contiguous() const noexcept;
  /// Fortran order without gaps.
  bool is_f_contiguous() const noexcept;
  /// Some stride is negative (over any dimension, as consumers check).
  bool has_negative_strides() const noexcept;
  /// Two distinct indices share an address (a zero stride over a dimension > 1).
  bool has_overlap() const noexcept;
  /// `data` is a multiple of `alignment` bytes.
  bool is_aligned(std::size_t alignment) const noexcept {
    return reinterpret_cast<std::uintptr_t>(data) % alignment == 0;
  }
};

/// A strided, typed view over a `storage`.
///
/// - Strides are in elements, not bytes (as in DLPack); they may be zero or negative.
/// - Copying a tensor copies the view, never the data; the storage is shared.
/// - A read-only tensor's memory must not be written through any view made from it.
///
/// Example:
/// ```
/// tb::tensor t = tb::tensor::empty({2, 3}, tb::dtype::float32);
/// t.at<float>({1, 2}) = 1.5f;
/// tb::tensor col = t.transpose().contiguous();
/// ```
class tensor {
 public:
  /// An empty 0-element float32 tensor of shape (0,).
  tensor();

  /// A view: `storage`, element type, shape, strides (elements), the byte offset of element 0
  /// from `storage->data()`, device, and whether writes are forbidden.
  /// Throws `tb::error` (value) if shape and strides disagree in length or a dimension is negative.
  tensor(std::shared_ptr<tb::storage> storage, tb::dtype dtype, shape_t shape, shape_t strides,
         std::int64_t byte_offset = 0, tb::device device = cpu_device, bool read_only = false);

  /// A new C-contiguous tensor, `buffer_alignment`-aligned, content uninitialised.
  static tensor empty(shape_t shape, tb::dtype dtype);
  /// A new C-contiguous tensor filled with zeros.
  static tensor zeros(shape_t shape, tb::dtype dtype);

  /// The C-contiguous strides (in elements) of `shape`.
  static shape_t contiguous_strides(const shape_t& shape);

  tb::dtype dtype() const noexcept { return dtype_; }
  const shape_t& shape() const noexcept { return shape_; }
  /// Strides in elements.
  const shape_t& strides() const noexcept { return strides_; }
  std::int64_t ndim() const noexcept { return static_cast<std::int64_t>(shape_.size()); }
  /// The number of elements (1 for a 0-d tensor).
  std::int64_t numel() const noexcept { return layout().numel(); }
  /// This tensor's layout (valid while the tensor lives).
  layout_view layout() const noexcept;
  std::size_t itemsize() const noexcept { return tb::itemsize(dtype_); }
  /// numel() * itemsize().
  std::size_t nbytes() const noexcept { return static_cast<std::size_t>(numel()) * itemsize(); }
  /// Byte offset of element 0 from `storage()->data()`.
  std::int64_t byte_offset() const noexcept { return byte_offset_; }
  tb::device device() const noexcept { return device_; }
  bool read_only() const noexcept { return read_only_; }
  const std::shared_ptr<tb::storage>& storage() const noexcept { return storage_; }

  /// The address of element 0 (for an empty tensor, where it would be).
  void* data() const noexcept { return storage_->data() + byte_offset_; }

  /// True if the elements are laid out in C order without gaps (size-1 dimensions and empty
  /// tensors are contiguous whatever their strides).
  bool is_contiguous() const noexcept { return layout().is_contiguous(); }
  /// True if the elements are laid out in Fortran order without gaps.
  bool is_f_contiguous() const noexcept { return layout().is_f_contiguous(); }
  /// True if some stride is negative (over any dimension, as consumers check).
  bool has_negative_strides() const noexcept { return layout().has_negative_strides(); }
  /// True if two distinct indices share an address (a zero stride over a dimension > 1).
  bool has_overlap() const noexcept { return layout().has_overlap(); }
  /// True if `data()` is a multiple of `alignment` bytes.
  bool is_aligned(std::size_t alignment = buffer_alignment) const noexcept { return layout().is_aligned(alignment); }

  /// This tensor if it is C-contiguous and aligned, else a new aligned C-contiguous copy.
  tensor contiguous() const;
  /// Always a new aligned C-contiguous copy, writable.
  tensor copy() const;
  /// The same view, marked read-only.
  tensor as_read_only() const;

  /// The view with dimensions reversed (a matrix transpose for 2-D).
  tensor transpose() const;
  /// The view with dimensions in the order `axes` (a permutation of 0..ndim-1).
  tensor permute(std::span<const std::int64_t> axes) const;
  /// The view of rows [begin, end) along axis 0, stepping by `step` (which may be negative, in
  /// which case begin > end as in Python's slicing with explicit bounds).
  tensor slice(std::int64_t begin, std::int64_t end, std::int64_t step = 1) const;
  /// The same memory read as `dtype`, which must have the same item size (bfloat16 <-> uint16).
  tensor view(tb::dtype dtype) const;
  /// The same data viewed as `shape` (one -1 is inferred). Requires a C-contiguous tensor.
  tensor reshape(shape_t shape) const;

  /// Reference to one element, for tests and scalar code. Checks bounds and the element size.
  template <class T>
  T& at(std::initializer_list<std::int64_t> index) const {
    return *static_cast<T*>(element_address(std::span<const std::int64_t>(index.begin(), index.size()),
                                            sizeof(T)));
  }
  /// The address of the element at `index` (bounds-checked, negative indices count from the end).
  void* element_address(std::span<const std::int64_t> index, std::size_t expect_size = 0) const;

  /// "tensor(shape=(2, 3), dtype=float32, strides=(3, 1), device=cpu)".
  std::string describe() const;

 private:
  std::shared_ptr<tb::storage> storage_;
  tb::dtype dtype_ = tb::dtype::float32;
  shape_t shape_;
  shape_t strides_;
  std::int64_t byte_offset_ = 0;
  tb::device device_ = cpu_device;
  bool read_only_ = false;
};

/// Copies the elements of `src` into `dst` (same shape, same dtype, any strides). Runs on
/// several threads for large tensors. Throws `tb::error` on a shape or dtype mismatch, or if `dst`
/// is read-only.
void copy_into(const tensor& src, const tensor& dst);

/// Reverses the byte order of every element of `t` in place (what a byte-swapped NumPy array or
/// `.npy` file needs to become native). Complex values swap each half separately.
void byteswap_inplace(const tensor& t);

/// A foreign strided buffer described in bytes, as the buffer protocol and
/// `__array_interface__` describe it (strides there need not be multiples of the item size).
struct buffer_view {
  void* data = nullptr;                   ///< address of element 0
  tb::dtype dtype = tb::dtype::float32;   ///< element type
  shape_t shape;                          ///< elements per dimension
  shape_t byte_strides;                   ///< strides in bytes; may be negative or unaligned
  bool read_only = false;                 ///< the owner forbids writes
  bool byteswapped = false;               ///< elements are stored in non-native byte order
  tb::device device = cpu_device;         ///< where the memory is
  std::function<void()> release;          ///< runs exactly once when the last view dies
};

/// The dtype of a PEP 3118 buffer format (`"d"`, `"<f"`, `">i"`, `"?"`, `"Zd"`, ...) whose items
/// are `itemsize` bytes (the size decides between `l` and `q` and the like). Sets `*byteswapped` if
/// the format names the non-native byte order. Nothing for formats tensorbridge has no dtype for
/// (structs, `g` long double, `O` objects, strings).
std::optional<tb::dtype> dtype_from_buffer_format(std::string_view format, std::size_t itemsize, bool* byteswapped);

/// Writes into `out` the strides in elements of a buffer whose strides are `byte_strides` (one
/// per dimension of `shape`) and whose elements are `dtype`. Returns -1, or the first axis
/// whose stride is not a whole number of elements (such a buffer cannot be viewed, only copied).
std::int64_t element_strides(std::span<const std::int64_t> shape, std::span<const std::int64_t> byte_strides,
                             tb::dtype dtype, std::span<std::int64_t> out) noexcept;

/// The outcome of importing a `buffer_view`: the tensor, and why it had to be copied (empty when
/// it is a zero-copy view).
struct import_result {
  tensor value;
  std::string copy_reason;  ///< empty for a view; else e.g. "byte-swapped elements"
};

/// Imports a foreign buffer: a zero-copy view when its strides are whole elements and its bytes
/// are native; otherwise a native, aligned, C-contiguous copy (and the reason).
/// `allow_copy=false` turns that copy into a `tb::error` (buffer) instead.
import_result import_buffer(buffer_view view, bool allow_copy = true);

}  // namespace tb
