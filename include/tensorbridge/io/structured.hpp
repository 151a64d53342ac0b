#pragma once
/// @file structured.hpp
/// Records (NumPy structured arrays, structured `.npy` files) split into one tensor per field.

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "tensorbridge/core/tensor.hpp"

namespace tb {

/// One field of a record type, as NumPy's `dtype.fields` describes it.
struct record_field {
  std::string name;          ///< the field name (UTF-8)
  tb::dtype dtype;           ///< the element type of the field
  std::size_t offset = 0;    ///< bytes from the start of a record to the field
  shape_t subshape;          ///< elements per record for a sub-array field (`('x', '<f4', (3,))`); empty for scalars
  bool byteswapped = false;  ///< the field is stored in non-native byte order
};

/// One column cut out of records.
struct named_column {
  std::string name;         ///< the field name
  tensor values;            ///< shape: record shape + field sub-shape
  std::string copy_reason;  ///< empty when `values` is a zero-copy view of the records; else why it is a copy
};

/// Splits records into one tensor per field.
///
/// - `records` is a uint8 tensor of shape `record_shape + (record_size,)` whose last stride is 1
///   (the bytes of one record are contiguous); the other strides are the record strides in bytes.
/// - Each column is a zero-copy strided view sharing `records`' storage when its strides are whole
///   elements (`record_size` a multiple of the field's item size) and its bytes are native;
///   otherwise it is a native C-contiguous copy and `copy_reason` says why (`tb::import_buffer`'s rule).
/// - Columns keep `records.read_only()`.
/// - Throws `tb::error` (value) when a field lies outside the record or `records` is not uint8
///   with a unit last stride.
///
/// Example:
/// ```
/// // 2 records of (int64 id, float64 value): 16 bytes each.
/// std::vector<tb::record_field> fields = {{"id", tb::dtype::int64, 0}, {"value", tb::dtype::float64, 8}};
/// auto columns = tb::columns_from_records(bytes, fields);  // bytes: uint8 tensor of shape (2, 16)
/// ```
std::vector<named_column> columns_from_records(const tensor& records, std::span<const record_field> fields);

}  // namespace tb
