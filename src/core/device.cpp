#include "tensorbridge/core/device.hpp"

#include <charconv>

#include "tensorbridge/core/error.hpp"

namespace tb {
namespace {

struct device_name {
  std::string_view name;
  device_type type;
};
constexpr device_name names[] = {
    {"cpu", device_type::cpu},       {"cuda", device_type::cuda},   {"gpu", device_type::cuda},
    {"cuda_host", device_type::cuda_host}, {"rocm", device_type::rocm}, {"metal", device_type::metal},
    {"mps", device_type::metal},     {"vulkan", device_type::vulkan}, {"opencl", device_type::opencl},
    {"oneapi", device_type::one_api}, {"webgpu", device_type::webgpu}, {"hexagon", device_type::hexagon},
};

}  // namespace

std::string to_string(device d) {
  for (const auto& n : names)
    if (n.type == d.type) {
      if (d.type == device_type::cpu) return "cpu";
      return std::string(n.name) + ":" + std::to_string(d.index);
    }
  return "device(" + std::to_string(static_cast<int>(d.type)) + "):" + std::to_string(d.index);
}

device device_from_name(std::string_view text) {
  auto colon = text.find(':');
  std::string_view kind = text.substr(0, colon);
  int index = 0;
  if (colon != std::string_view::npos) {
    std::string_view digits = text.substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (ec != std::errc() || end != digits.data() + digits.size() || index < 0 || digits.empty())
      fail(error_kind::value, "invalid device \"", text, "\": the index after ':' must be a whole number >= 0");
  }
  for (const auto& n : names)
    if (n.name == kind) return device{n.type, index};
  fail(error_kind::value, "unknown device \"", text, "\"; expected \"cpu\", \"cuda\", \"cuda:N\", \"rocm:N\" or \"mps\"");
}

}  // namespace tb
