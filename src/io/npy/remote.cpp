// Writing .npy / .npz to remote objects (see remote_internal.hpp).
#include "io/npy/remote_internal.hpp"

namespace tb::detail {

void save_remote(const std::string& path, const storage_options& options,
                 const std::function<void(const std::function<void(std::span<const std::byte>)>&)>& write) {
  object_writer out(path, options);
  write([&](std::span<const std::byte> bytes) { out.write(bytes); });
  out.commit();
}

}  // namespace tb::detail
