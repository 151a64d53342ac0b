#include <gtest/gtest.h>

#include "io_test_support.hpp"
#include "tensorbridge/interop/dlpack.hpp"
#include "tensorbridge/io/npy.hpp"

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
  auto* m = tb::to_dlpack_versioned(t, {.consumer_respects_read_only = true, .is_copied = true});
  EXPECT_EQ(m->flags, tb::dlpack_flag_read_only | tb::dlpack_flag_is_copied);
  tb::tensor back = tb::from_dlpack(m);
  EXPECT_TRUE(back.read_only());
  EXPECT_EQ(back.data(), t.data());
  auto* legacy = tb::to_dlpack_legacy(t, {.consumer_respects_read_only = true});
  EXPECT_EQ(legacy->dl_tensor.data, t.data());
  legacy->deleter(legacy);
}

TEST(Dlpack, ReadOnlyMemoryIsNeverExposedToAConsumerThatMayWrite) {
  tb::tensor t = tb::tensor::zeros({4}, tb::dtype::int16).as_read_only();
  for (bool versioned : {true, false}) {
    tb::tensor back = versioned ? tb::from_dlpack(tb::to_dlpack_versioned(t))
                                : tb::from_dlpack(tb::to_dlpack_legacy(t));
    EXPECT_NE(back.data(), t.data());  // a copy
    EXPECT_FALSE(back.read_only());
    back.at<std::int16_t>({0}) = 5;
    EXPECT_EQ(t.at<std::int16_t>({0}), 0);
  }
  auto* m = tb::to_dlpack_versioned(t);
  EXPECT_EQ(m->flags, tb::dlpack_flag_is_copied);
  m->deleter(m);
  EXPECT_THROW(tb::to_dlpack_versioned(t, {.allow_copy = false}), tb::error);
  EXPECT_THROW(tb::to_dlpack_legacy(t, {.allow_copy = false}), tb::error);
  tb::tensor w = tb::tensor::zeros({4}, tb::dtype::int16);
  auto* shared = tb::to_dlpack_versioned(w, {.allow_copy = false});
  EXPECT_EQ(shared->dl_tensor.data, w.data());  // writable memory is shared
  shared->deleter(shared);
  auto* copied = tb::to_dlpack_versioned(w, {.copy = true});
  EXPECT_NE(copied->dl_tensor.data, w.data());
  EXPECT_EQ(copied->flags, tb::dlpack_flag_is_copied);
  copied->deleter(copied);
}

TEST(Dlpack, ReadOnlyFileMapIsExportedAsAPrivateCopyOnWriteMap) {
  const std::string path = tb::testing_files::temp_path("m.npy");
  tb::tensor src = tb::tensor::zeros({1024}, tb::dtype::float32);
  for (std::int64_t i = 0; i < 1024; ++i) src.at<float>({i}) = static_cast<float>(i);
  tb::save_npy(path, src);
  const std::string before = tb::testing_files::read_file(path);
  tb::tensor mapped = tb::load_npy(path, {.mmap = true});
  ASSERT_TRUE(mapped.read_only());
  for (bool versioned : {true, false}) {
    tb::tensor back = versioned ? tb::from_dlpack(tb::to_dlpack_versioned(mapped.slice(8, 1024)))
                                : tb::from_dlpack(tb::to_dlpack_legacy(mapped.slice(8, 1024)));
    EXPECT_NE(back.data(), mapped.data());  // another map of the same pages, not the shared one
    EXPECT_EQ(back.at<float>({0}), 8.0f);
    back.at<float>({0}) = -1.0f;  // would fault on the read-only shared map
    EXPECT_EQ(mapped.at<float>({8}), 8.0f);
  }
  auto* m = tb::to_dlpack_versioned(mapped);
  EXPECT_EQ(m->flags, tb::dlpack_flag_read_only);  // not copied, and read-only as the source is
  m->deleter(m);
  EXPECT_EQ(tb::testing_files::read_file(path), before);
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
