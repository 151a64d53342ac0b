#pragma once
// Scratch files for tests. ctest runs every test in its own process, several at once, so each
// test gets its own folder (named after the test and the process) to avoid racing on a file.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

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

}  // namespace tb::testing_files
