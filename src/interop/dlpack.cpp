#include "tensorbridge/interop/dlpack.hpp"

#include <cstddef>
#include <memory>
#include <utility>

#include "tensorbridge/interop/plan.hpp"

namespace tb {

// The structs must match the DLPack C ABI byte for byte (64-bit platforms).
static_assert(sizeof(dlpack_device) == 8);
static_assert(sizeof(dlpack_dtype) == 4);
static_assert(offsetof(dlpack_tensor, device) == 8 && offsetof(dlpack_tensor, ndim) == 16 &&
              offsetof(dlpack_tensor, dtype) == 20 && offsetof(dlpack_tensor, shape) == 24 &&
              offsetof(dlpack_tensor, strides) == 32 && offsetof(dlpack_tensor, byte_offset) == 40 &&
              sizeof(dlpack_tensor) == 48);
static_assert(offsetof(dlpack_managed_tensor, manager_ctx) == 48 && offsetof(dlpack_managed_tensor, deleter) == 56 &&
              sizeof(dlpack_managed_tensor) == 64);
static_assert(offsetof(dlpack_managed_tensor_versioned, manager_ctx) == 8 &&
              offsetof(dlpack_managed_tensor_versioned, deleter) == 16 &&
              offsetof(dlpack_managed_tensor_versioned, flags) == 24 &&
              offsetof(dlpack_managed_tensor_versioned, dl_tensor) == 32 && sizeof(dlpack_managed_tensor_versioned) == 80);

namespace {

// What an exported managed tensor points to: the tensor (keeping storage alive) and the shape and
// stride arrays the DLTensor refers to.
template <class Managed>
struct export_context {
  Managed managed{};
  tensor source;
  shape_t shape;
  shape_t strides;
};

template <class Managed>
Managed* make_export(const tensor& t) {
  auto* ctx = new export_context<Managed>{};
  ctx->source = t;
  ctx->shape = t.shape();
  ctx->strides = t.strides();
  dlpack_tensor& dl = ctx->managed.dl_tensor;
  dl.data = t.data();  // element 0 itself, so that consumers checking alignment see the real address
  dl.byte_offset = 0;
  dl.device = {static_cast<std::int32_t>(t.device().type), t.device().index};
  dl.ndim = static_cast<std::int32_t>(t.ndim());
  const dtype_info& row = info(t.dtype());
  dl.dtype = {static_cast<std::uint8_t>(row.code), static_cast<std::uint8_t>(row.itemsize * 8), 1};
  dl.shape = ctx->shape.data();
  dl.strides = ctx->strides.data();
  ctx->managed.manager_ctx = ctx;
  ctx->managed.deleter = [](Managed* self) { delete static_cast<export_context<Managed>*>(self->manager_ctx); };
  return &ctx->managed;
}

template <class Managed>
tensor import_managed(Managed* managed, bool read_only) {
  if (managed == nullptr) fail(error_kind::value, "from_dlpack: the managed tensor pointer is null");
  // From here on the deleter belongs to the storage, so it runs exactly once on every path.
  auto owner = storage::wrap(managed->dl_tensor.data, 0, [managed] {
    if (managed->deleter) managed->deleter(managed);
  });
  const dlpack_tensor& dl = managed->dl_tensor;
  auto dtype = dtype_from_dlpack(dl.dtype.code, dl.dtype.bits, dl.dtype.lanes);
  if (!dtype)
    fail(error_kind::type, "from_dlpack: unsupported DLPack dtype (code ", int(dl.dtype.code), ", bits ",
         int(dl.dtype.bits), ", lanes ", dl.dtype.lanes,
         "); tensorbridge supports bool, int8-64, uint8-64, float16, bfloat16, float32, float64, complex64/128");
  if (dl.ndim < 0) fail(error_kind::value, "from_dlpack: negative ndim ", dl.ndim);
  shape_t shape(dl.shape, dl.shape + dl.ndim);
  shape_t strides = dl.strides ? shape_t(dl.strides, dl.strides + dl.ndim) : tensor::contiguous_strides(shape);
  device dev{static_cast<device_type>(dl.device.device_type), dl.device.device_id};
  return tensor(std::move(owner), *dtype, std::move(shape), std::move(strides),
                static_cast<std::int64_t>(dl.byte_offset), dev, read_only);
}

}  // namespace

namespace {

// What is exported for `t` under `options`.
struct exported {
  tensor memory;
  bool copied = false;     // a copy made for this export
  bool read_only = false;  // the READ_ONLY flag: the consumer should not write
};

exported exported_memory(const tensor& t, const dlpack_export_options& options) {
  if (options.device && *options.device != t.device())
    fail(error_kind::buffer, "cannot export a tensor on ", to_string(t.device()), " to DLPack device ",
         to_string(*options.device), " without a cross-device copy, which tensorbridge does not do on this machine");
  export_request req;
  req.consumer.name = "a DLPack consumer";
  req.consumer.read_only = options.consumer_respects_read_only;
  req.consumer.read_only_gap = "may ignore DLPack's READ_ONLY flag (PyTorch does)";
  req.copy = options.copy ? copy_mode::always : options.allow_copy ? copy_mode::if_needed : copy_mode::never;
  req.device = t.device();
  const export_plan plan = plan_export(t, req);
  tensor memory = execute(t, plan);
  // A private map stays flagged read-only, as the source is: a consumer that honours the flag
  // keeps it so, and one that does not writes private pages only.
  if (plan.zero_copy) return {std::move(memory), options.is_copied, plan.read_only || plan.private_map};
  return {std::move(memory), true, false};
}

}  // namespace

dlpack_managed_tensor_versioned* to_dlpack_versioned(const tensor& t, const dlpack_export_options& options) {
  exported out = exported_memory(t, options);
  auto* m = make_export<dlpack_managed_tensor_versioned>(out.memory);
  m->version = {dlpack_major_version, dlpack_minor_version};
  m->flags = (out.read_only ? dlpack_flag_read_only : 0) | (out.copied ? dlpack_flag_is_copied : 0);
  return m;
}

dlpack_managed_tensor* to_dlpack_legacy(const tensor& t, const dlpack_export_options& options) {
  return make_export<dlpack_managed_tensor>(exported_memory(t, options).memory);
}

tensor from_dlpack(dlpack_managed_tensor_versioned* managed) {
  if (managed == nullptr) fail(error_kind::value, "from_dlpack: the managed tensor pointer is null");
  if (managed->version.major != dlpack_major_version) {
    auto major = managed->version.major;
    if (managed->deleter) managed->deleter(managed);
    fail(error_kind::value, "from_dlpack: DLPack major version ", major, " is not supported (expected ",
         dlpack_major_version, ")");
  }
  return import_managed(managed, (managed->flags & dlpack_flag_read_only) != 0);
}

tensor from_dlpack(dlpack_managed_tensor* managed, bool read_only) { return import_managed(managed, read_only); }

}  // namespace tb
