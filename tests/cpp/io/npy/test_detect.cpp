// Telling .npy from .npz by the first bytes (tb::detect_array_file), as np.load does.

#include <gtest/gtest.h>

#include <cstddef>
#include <string>

#include "io_test_support.hpp"
#include "tensorbridge/io/npy.hpp"

namespace {

using namespace tb::testing_files;

tb::array_file_kind of_bytes(const std::string& bytes) {
  return tb::detect_array_file(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
}

TEST(DetectArrayFile, MagicBytesTellTheKinds) {
  EXPECT_EQ(of_bytes(std::string("\x93NUMPY\x01\x00", 8)), tb::array_file_kind::npy);
  EXPECT_EQ(of_bytes(std::string("PK\x03\x04rest", 8)), tb::array_file_kind::npz);
  EXPECT_EQ(of_bytes(std::string("PK\x05\x06", 4)), tb::array_file_kind::npz);  // an empty archive
  EXPECT_EQ(of_bytes("PK"), tb::array_file_kind::other);
  EXPECT_EQ(of_bytes(std::string("\x93NUMP", 5)), tb::array_file_kind::other);
  EXPECT_EQ(of_bytes("a,b\n1,2\n"), tb::array_file_kind::other);
  EXPECT_EQ(of_bytes(""), tb::array_file_kind::other);
}

TEST(DetectArrayFile, ReadsTheFilesFirstBytes) {
  const std::string npy = temp_path("detect.npy"), npz = temp_path("detect.npz"), csv = temp_path("detect.csv"),
                    empty = temp_path("detect.empty");
  tb::tensor t = tb::tensor::empty({3}, tb::dtype::int16);
  tb::save_npy(npy, t);
  tb::save_npz(npz, std::vector<std::pair<std::string, tb::tensor>>{{"t", t}});
  write_file(csv, "a,b\n1,2\n");
  write_file(empty, "");
  EXPECT_EQ(tb::detect_array_file(npy), tb::array_file_kind::npy);
  EXPECT_EQ(tb::detect_array_file(npz), tb::array_file_kind::npz);
  EXPECT_EQ(tb::detect_array_file(csv), tb::array_file_kind::other);
  EXPECT_EQ(tb::detect_array_file(empty), tb::array_file_kind::other);
  tb::error_kind kind{};
  const std::string m = error_of([&] { tb::detect_array_file(temp_path("detect.missing")); }, &kind);
  EXPECT_NE(m.find("detect.missing"), std::string::npos) << m;
  EXPECT_EQ(kind, tb::error_kind::not_found);
}

}  // namespace
