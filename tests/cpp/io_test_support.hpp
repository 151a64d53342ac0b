#pragma once
// Helpers shared by the reader tests: scratch files, byte comparison, error capture.
// ctest runs every test in its own process, several at once, so each test gets its own scratch
// folder (named after the test and the process) to avoid racing on a file.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <cstring>
#include <string>

#include "tensorbridge/core/tensor.hpp"

namespace tb::testing_files {

/// A path named `name` in this test's own scratch folder.
inline std::string temp_path(const std::string& name) {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string folder = std::string("tb_") + (test ? std::string(test->test_suite_name()) + "." + test->name() : "test") +
                       "." + std::to_string(::getpid());
  auto dir = std::filesystem::path(::testing::TempDir()) / folder;
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

/// The whole content of a file.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

/// Replaces a file's content with `bytes`.
inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// True if the two tensors hold the same shape, dtype and bytes (whatever their strides).
inline bool same_bytes(const tb::tensor& a, const tb::tensor& b) {
  tb::tensor ca = a.contiguous(), cb = b.contiguous();
  return ca.shape() == cb.shape() && ca.dtype() == cb.dtype() && std::memcmp(ca.data(), cb.data(), ca.nbytes()) == 0;
}

/// The message of the `tb::error` that `f` throws ("no error" if none), and its kind.
template <class F>
std::string error_of(F&& f, tb::error_kind* kind = nullptr) {
  try {
    f();
  } catch (const tb::error& e) {
    if (kind) *kind = e.kind();
    return e.what();
  }
  return "no error";
}

}  // namespace tb::testing_files
