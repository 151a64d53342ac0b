#pragma once
/// @file device.hpp
/// Where a tensor's memory lives, numbered as DLPack's `DLDeviceType`.

#include <cstdint>
#include <string>
#include <string_view>

namespace tb {

/// Device types, with DLPack's numbers (`kDLCPU` = 1, `kDLCUDA` = 2, ...).
enum class device_type : std::int32_t {
  cpu = 1,
  cuda = 2,
  cuda_host = 3,
  opencl = 4,
  vulkan = 7,
  metal = 8,
  vpi = 9,
  rocm = 10,
  rocm_host = 11,
  ext_dev = 12,
  cuda_managed = 13,
  one_api = 14,
  webgpu = 15,
  hexagon = 16,
  maia = 17,
};

/// A device: a type and an ordinal (0 for the CPU).
struct device {
  device_type type = device_type::cpu;  ///< the kind of memory
  std::int32_t index = 0;               ///< which one of that kind

  friend bool operator==(const device&, const device&) = default;
  /// True for host memory the CPU can read directly (CPU, CUDA-pinned, ROCm-pinned).
  bool is_host() const noexcept {
    return type == device_type::cpu || type == device_type::cuda_host || type == device_type::rocm_host;
  }
};

/// The CPU.
inline constexpr device cpu_device{};

/// "cpu", "cuda:1", ... (the PyTorch spelling).
std::string to_string(device d);

/// Parses "cpu", "cuda", "cuda:1", "gpu:0" (alias of cuda). Throws `tb::error` (value) otherwise.
device device_from_name(std::string_view name);

}  // namespace tb
