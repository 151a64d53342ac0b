// The portable kernels: the generic loop compiled for the build's baseline instruction set.

#include <cstdint>

#include "cast/convert_internal.hpp"
#include "cast/kernels_internal.hpp"

namespace tb::detail {
namespace {
#include "generic_kernels.inc"
}  // namespace

const cast_kernel_table& scalar_cast_kernels() {
  static const cast_kernel_table table = make_generic_table();
  return table;
}

}  // namespace tb::detail
