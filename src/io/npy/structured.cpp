#include "tensorbridge/io/structured.hpp"

namespace tb {

std::vector<named_column> columns_from_records(const tensor& records, std::span<const record_field> fields) {
  if (records.dtype() != dtype::uint8 || records.ndim() < 1 || (records.shape().back() > 1 && records.strides().back() != 1))
    fail(error_kind::value, "columns_from_records: records must be a uint8 tensor of shape (..., record_size) whose "
         "last stride is 1, got ", records.describe());
  const auto record_size = static_cast<std::size_t>(records.shape().back());
  shape_t record_shape(records.shape().begin(), records.shape().end() - 1);
  shape_t record_strides(records.strides().begin(), records.strides().end() - 1);  // bytes: uint8 elements
  std::vector<named_column> out;
  out.reserve(fields.size());
  for (const auto& field : fields) {
    std::int64_t count = 1;
    for (auto d : field.subshape) count *= d;
    std::size_t size = static_cast<std::size_t>(count) * itemsize(field.dtype);
    if (field.offset > record_size || size > record_size - field.offset)
      fail(error_kind::value, "columns_from_records: field '", field.name, "' (", name(field.dtype), " at byte ",
           field.offset, ", ", size, " bytes) does not fit in a ", record_size, "-byte record");
    buffer_view view;
    view.data = static_cast<std::byte*>(records.data()) + field.offset;
    view.dtype = field.dtype;
    view.shape = record_shape;
    view.byte_strides = record_strides;
    // A sub-array field adds its own C-ordered dimensions inside each record.
    shape_t sub_strides = tensor::contiguous_strides(field.subshape);
    for (std::size_t i = 0; i < field.subshape.size(); ++i) {
      view.shape.push_back(field.subshape[i]);
      view.byte_strides.push_back(sub_strides[i] * static_cast<std::int64_t>(itemsize(field.dtype)));
    }
    view.read_only = records.read_only();
    view.byteswapped = field.byteswapped;
    view.device = records.device();
    view.release = [keep = records.storage()] {};
    import_result imported = import_buffer(std::move(view));
    out.push_back({field.name, std::move(imported.value), std::move(imported.copy_reason)});
  }
  return out;
}

}  // namespace tb
