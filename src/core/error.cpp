#include "tensorbridge/core/error.hpp"

namespace tb {

const char* to_string(error_kind kind) noexcept {
  switch (kind) {
    case error_kind::type: return "type";
    case error_kind::value: return "value";
    case error_kind::overflow: return "overflow";
    case error_kind::io: return "io";
    case error_kind::not_found: return "not_found";
    case error_kind::permission: return "permission";
    case error_kind::write: return "write";
    case error_kind::format: return "format";
    case error_kind::buffer: return "buffer";
    case error_kind::is_directory: return "is_directory";
  }
  return "unknown";
}

}  // namespace tb
