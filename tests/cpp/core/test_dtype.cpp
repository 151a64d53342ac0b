#include <gtest/gtest.h>

#include "tensorbridge/core/device.hpp"
#include "tensorbridge/core/dtype.hpp"
#include "tensorbridge/core/error.hpp"
#include "tensorbridge/core/tensor.hpp"

TEST(Dtype, TableIsConsistent) {
  EXPECT_EQ(tb::all_dtypes().size(), static_cast<std::size_t>(tb::dtype_count));
  for (const auto& row : tb::all_dtypes()) {
    EXPECT_EQ(&tb::info(row.dtype), &row);
    EXPECT_EQ(tb::dtype_from_name(row.name), row.dtype);
    auto back = tb::dtype_from_dlpack(static_cast<std::uint8_t>(row.code), static_cast<std::uint8_t>(row.itemsize * 8), 1);
    ASSERT_TRUE(back.has_value()) << row.name;
    EXPECT_EQ(*back, row.dtype);
  }
}

TEST(Dtype, SizesAndKinds) {
  EXPECT_EQ(tb::itemsize(tb::dtype::bool_), 1u);
  EXPECT_EQ(tb::itemsize(tb::dtype::bfloat16), 2u);
  EXPECT_EQ(tb::itemsize(tb::dtype::complex128), 16u);
  EXPECT_TRUE(tb::is_floating(tb::dtype::bfloat16));
  EXPECT_TRUE(tb::is_integer(tb::dtype::uint64));
  EXPECT_FALSE(tb::is_integer(tb::dtype::bool_));
  EXPECT_TRUE(tb::is_complex(tb::dtype::complex64));
}

TEST(Dtype, AliasesAndErrors) {
  EXPECT_EQ(tb::dtype_from_name("half"), tb::dtype::float16);
  EXPECT_EQ(tb::dtype_from_name("double"), tb::dtype::float64);
  try {
    tb::dtype_from_name("float128");
    FAIL() << "expected an error";
  } catch (const tb::error& e) {
    EXPECT_EQ(e.kind(), tb::error_kind::type);
    EXPECT_NE(std::string(e.what()).find("unknown dtype \"float128\""), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("bfloat16"), std::string::npos);
  }
}

TEST(Dtype, DlpackUnknown) {
  EXPECT_FALSE(tb::dtype_from_dlpack(2, 8, 1).has_value());   // float8: not supported
  EXPECT_FALSE(tb::dtype_from_dlpack(2, 32, 4).has_value());  // vector lanes
  EXPECT_FALSE(tb::dtype_from_dlpack(3, 64, 1).has_value());  // opaque handle
}

TEST(Dtype, BufferFormats) {
  bool swapped = true;
  EXPECT_EQ(tb::dtype_from_buffer_format("d", 8, &swapped), tb::dtype::float64);
  EXPECT_FALSE(swapped);
  EXPECT_EQ(tb::dtype_from_buffer_format("l", 8, &swapped), tb::dtype::int64);
  EXPECT_EQ(tb::dtype_from_buffer_format("<q", 8, &swapped), tb::dtype::int64);
  EXPECT_EQ(tb::dtype_from_buffer_format(">f", 4, &swapped), tb::dtype::float32);
  EXPECT_TRUE(swapped);
  EXPECT_EQ(tb::dtype_from_buffer_format("Zd", 16, &swapped), tb::dtype::complex128);
  EXPECT_EQ(tb::dtype_from_buffer_format("?", 1, &swapped), tb::dtype::bool_);
  EXPECT_EQ(tb::dtype_from_buffer_format("e", 2, &swapped), tb::dtype::float16);
  EXPECT_FALSE(tb::dtype_from_buffer_format("g", 16, &swapped).has_value());
  EXPECT_FALSE(tb::dtype_from_buffer_format("O", 8, &swapped).has_value());
  EXPECT_FALSE(tb::dtype_from_buffer_format("T{d:x:}", 8, &swapped).has_value());
}

TEST(Device, Names) {
  EXPECT_EQ(tb::to_string(tb::cpu_device), "cpu");
  EXPECT_EQ(tb::device_from_name("cuda:1"), (tb::device{tb::device_type::cuda, 1}));
  EXPECT_EQ(tb::to_string(tb::device_from_name("cuda:1")), "cuda:1");
  EXPECT_THROW(tb::device_from_name("tpu"), tb::error);
  EXPECT_THROW(tb::device_from_name("cuda:x"), tb::error);
  EXPECT_THROW(tb::device_from_name("cuda:"), tb::error);
}
