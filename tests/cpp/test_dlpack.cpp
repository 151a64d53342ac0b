#include <gtest/gtest.h>

#include "tensorbridge/dlpack.hpp"

TEST(Dlpack, VersionedRoundTripKeepsStorageAlive) {
  auto before = tb::storage::live_count();
  tb::dlpack_managed_tensor_versioned* m = nullptr;
  {
    tb::tensor t = tb::tensor::zeros({2, 3}, tb::dtype::bfloat16);
    m = tb::to_dlpack_versioned(t.transpose());
  }
  EXPECT_EQ(tb::storage::live_count(), before + 1);  // the export keeps it alive
  EXPECT_EQ(m->version.major, 1u);
  EXPECT_EQ(m->flags, 0u);
  EXPECT_EQ(m->dl_tensor.ndim, 2);
  EXPECT_EQ(m->dl_tensor.dtype.code, 4);  // kDLBfloat
  EXPECT_EQ(m->dl_tensor.dtype.bits, 16);
  EXPECT_EQ(m->dl_tensor.strides[0], 1);
  EXPECT_EQ(m->dl_tensor.strides[1], 3);
  {
    tb::tensor back = tb::from_dlpack(m);
    EXPECT_EQ(back.shape(), (tb::shape_t{3, 2}));
    EXPECT_EQ(back.dtype(), tb::dtype::bfloat16);
    EXPECT_FALSE(back.read_only());
  }
  EXPECT_EQ(tb::storage::live_count(), before);  // every deleter ran, once
}

TEST(Dlpack, ReadOnlyAndCopiedFlags) {
  tb::tensor t = tb::tensor::zeros({4}, tb::dtype::int16).as_read_only();
  auto* m = tb::to_dlpack_versioned(t, /*is_copied=*/true);
  EXPECT_EQ(m->flags, tb::dlpack_flag_read_only | tb::dlpack_flag_is_copied);
  tb::tensor back = tb::from_dlpack(m);
  EXPECT_TRUE(back.read_only());
  EXPECT_THROW(tb::to_dlpack_legacy(t), tb::error);
  auto* legacy = tb::to_dlpack_legacy(t, /*consumer_never_writes=*/true);
  legacy->deleter(legacy);
}

TEST(Dlpack, LegacyRoundTripAndOffsets) {
  tb::tensor t = tb::tensor::zeros({10}, tb::dtype::float32);
  t.at<float>({7}) = 7.0f;
  auto* m = tb::to_dlpack_legacy(t.slice(5, 10));
  EXPECT_EQ(m->dl_tensor.byte_offset, 0u);
  tb::tensor back = tb::from_dlpack(m);
  EXPECT_EQ(back.at<float>({2}), 7.0f);
}

namespace {
int foreign_deletes = 0;
std::int64_t foreign_shape[2] = {2, 2};
float foreign_data[4] = {1, 2, 3, 4};
}  // namespace

TEST(Dlpack, ImportForeignWithNullStridesAndByteOffset) {
  static tb::dlpack_managed_tensor_versioned m{};
  m.version = {1, 0};
  m.deleter = [](tb::dlpack_managed_tensor_versioned*) { ++foreign_deletes; };
  m.dl_tensor.data = foreign_data;
  m.dl_tensor.device = {1, 0};
  m.dl_tensor.ndim = 2;
  m.dl_tensor.dtype = {2, 32, 1};
  m.dl_tensor.shape = foreign_shape;
  m.dl_tensor.strides = nullptr;  // compact row-major
  m.dl_tensor.byte_offset = 0;
  foreign_deletes = 0;
  {
    tb::tensor t = tb::from_dlpack(&m);
    EXPECT_EQ(t.at<float>({1, 0}), 3.0f);
    EXPECT_EQ(foreign_deletes, 0);
  }
  EXPECT_EQ(foreign_deletes, 1);
}

TEST(Dlpack, RejectsUnknownDtypeAndVersionButStillDeletes) {
  static tb::dlpack_managed_tensor_versioned m{};
  m.version = {1, 0};
  m.deleter = [](tb::dlpack_managed_tensor_versioned*) { ++foreign_deletes; };
  m.dl_tensor.data = foreign_data;
  m.dl_tensor.device = {1, 0};
  m.dl_tensor.ndim = 1;
  m.dl_tensor.dtype = {2, 8, 1};  // float8
  m.dl_tensor.shape = foreign_shape;
  foreign_deletes = 0;
  EXPECT_THROW(tb::from_dlpack(&m), tb::error);
  EXPECT_EQ(foreign_deletes, 1);
  m.version = {2, 0};
  m.dl_tensor.dtype = {2, 32, 1};
  EXPECT_THROW(tb::from_dlpack(&m), tb::error);
  EXPECT_EQ(foreign_deletes, 2);
}
