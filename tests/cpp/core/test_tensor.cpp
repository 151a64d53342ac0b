#include <gtest/gtest.h>

#include <numeric>

#include "tensorbridge/core/tensor.hpp"
#include "tensorbridge/core/threads.hpp"

namespace {

tb::tensor iota_f32(tb::shape_t shape) {
  tb::tensor t = tb::tensor::empty(std::move(shape), tb::dtype::float32);
  auto* p = static_cast<float*>(t.data());
  std::iota(p, p + t.numel(), 0.0f);
  return t;
}

}  // namespace

TEST(Tensor, EmptyIsAlignedAndContiguous) {
  tb::tensor t = tb::tensor::empty({3, 5}, tb::dtype::float64);
  EXPECT_EQ(t.strides(), (tb::shape_t{5, 1}));
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_TRUE(t.is_aligned(64));
  EXPECT_EQ(t.nbytes(), 120u);
  EXPECT_TRUE(t.storage()->owned());
}

TEST(Tensor, ZeroDimAndEmpty) {
  tb::tensor s = tb::tensor::zeros({}, tb::dtype::int32);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.at<std::int32_t>({}), 0);
  tb::tensor e = tb::tensor::empty({0, 4}, tb::dtype::float32);
  EXPECT_EQ(e.numel(), 0);
  EXPECT_TRUE(e.is_contiguous());
  EXPECT_EQ(e.copy().numel(), 0);
}

TEST(Tensor, TransposeSliceAndContiguous) {
  tb::tensor t = iota_f32({3, 4});
  tb::tensor tt = t.transpose();
  EXPECT_FALSE(tt.is_contiguous());
  EXPECT_TRUE(tt.is_f_contiguous());
  tb::tensor c = tt.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(c.at<float>({i, j}), static_cast<float>(j * 4 + i));

  tb::tensor rev = t.slice(2, -4, -1);  // rows 2, 1, 0
  EXPECT_EQ(rev.shape()[0], 3);
  EXPECT_TRUE(rev.has_negative_strides());
  tb::tensor rc = rev.contiguous();
  EXPECT_EQ(rc.at<float>({0, 0}), 8.0f);
  EXPECT_EQ(rc.at<float>({2, 3}), 3.0f);

  tb::tensor odd = t.slice(1, 3);
  EXPECT_EQ(odd.at<float>({0, 0}), 4.0f);
  EXPECT_EQ(t.slice(5, 9).shape()[0], 0);
}

TEST(Tensor, ContiguousReturnsSelfWhenPossible) {
  tb::tensor t = iota_f32({8});
  EXPECT_EQ(t.contiguous().data(), t.data());
  EXPECT_NE(t.copy().data(), t.data());
}

TEST(Tensor, ReshapePermuteView) {
  tb::tensor t = iota_f32({2, 3, 4});
  EXPECT_EQ(t.reshape({6, -1}).shape(), (tb::shape_t{6, 4}));
  EXPECT_THROW(t.reshape({5, -1}), tb::error);
  EXPECT_THROW(t.transpose().reshape({24}), tb::error);
  std::int64_t axes[] = {2, 0, 1};
  tb::tensor p = t.permute(axes);
  EXPECT_EQ(p.shape(), (tb::shape_t{4, 2, 3}));
  EXPECT_EQ(p.at<float>({3, 1, 2}), t.at<float>({1, 2, 3}));
  std::int64_t bad[] = {0, 0, 1};
  EXPECT_THROW(t.permute(bad), tb::error);
  EXPECT_EQ(t.view(tb::dtype::int32).dtype(), tb::dtype::int32);
  EXPECT_THROW(t.view(tb::dtype::float64), tb::error);
}

TEST(Tensor, ElementAccessChecks) {
  tb::tensor t = iota_f32({2, 2});
  EXPECT_EQ(t.at<float>({-1, -1}), 3.0f);
  EXPECT_THROW(t.at<float>({2, 0}), tb::error);
  EXPECT_THROW(t.at<double>({0, 0}), tb::error);
  EXPECT_THROW(t.at<float>({0}), tb::error);
}

TEST(Tensor, InvalidConstruction) {
  auto st = tb::storage::allocate(64);
  EXPECT_THROW(tb::tensor(st, tb::dtype::float32, {2, 2}, {1}), tb::error);
  EXPECT_THROW(tb::tensor(st, tb::dtype::float32, {-1}, {1}), tb::error);
  EXPECT_THROW(tb::tensor::empty({-2}, tb::dtype::float32), tb::error);
}

TEST(Tensor, CopyIntoStridedAndParallel) {
  // Large enough to take the multi-threaded path.
  tb::tensor t = iota_f32({1024, 1024});
  tb::tensor tt = t.transpose();
  tb::tensor out = tb::tensor::empty({1024, 1024}, tb::dtype::float32);
  tb::copy_into(tt, out);
  EXPECT_EQ(out.at<float>({5, 7}), 7 * 1024 + 5);
  EXPECT_EQ(out.at<float>({1023, 0}), 1023);
  tb::tensor ro = out.as_read_only();
  EXPECT_THROW(tb::copy_into(t, ro), tb::error);
  EXPECT_THROW(tb::copy_into(t, tb::tensor::empty({1024, 1024}, tb::dtype::float64)), tb::error);
}

TEST(Tensor, ByteswapAndImportBuffer) {
  std::uint32_t raw[4] = {0x01000000u, 0x02000000u, 0x03000000u, 0x04000000u};
  int released = 0;
  tb::buffer_view v;
  v.data = raw;
  v.dtype = tb::dtype::int32;
  v.shape = {4};
  v.byte_strides = {4};
  v.byteswapped = true;
  v.release = [&] { ++released; };
  auto r = tb::import_buffer(std::move(v));
  EXPECT_EQ(released, 1);  // copied, so the source is let go at once
  EXPECT_FALSE(r.copy_reason.empty());
  EXPECT_EQ(r.value.at<std::int32_t>({2}), 3);

  tb::buffer_view w;
  w.data = raw;
  w.dtype = tb::dtype::int32;
  w.shape = {2};
  w.byte_strides = {8};
  w.read_only = true;
  w.release = [&] { ++released; };
  {
    auto r2 = tb::import_buffer(std::move(w));
    EXPECT_TRUE(r2.copy_reason.empty());
    EXPECT_TRUE(r2.value.read_only());
    EXPECT_EQ(r2.value.data(), raw);
    EXPECT_EQ(released, 1);
  }
  EXPECT_EQ(released, 2);  // the view died: released exactly once

  tb::buffer_view odd;
  odd.data = raw;
  odd.dtype = tb::dtype::int32;
  odd.shape = {2};
  odd.byte_strides = {6};
  odd.release = [&] { ++released; };
  EXPECT_THROW(tb::import_buffer(std::move(odd), /*allow_copy=*/false), tb::error);
  EXPECT_EQ(released, 3);
}

TEST(Storage, LiveCountAndDeleterOnce) {
  auto before = tb::storage::live_count();
  int calls = 0;
  {
    auto st = tb::storage::wrap(nullptr, 0, [&] { ++calls; });
    tb::tensor a(st, tb::dtype::uint8, {0}, {1});
    tb::tensor b = a;
    EXPECT_EQ(tb::storage::live_count(), before + 1);
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(tb::storage::live_count(), before);
}

TEST(Threads, SetAndRestore) {
  int n = tb::num_threads();
  EXPECT_GE(n, 1);
  tb::set_num_threads(3);
  EXPECT_EQ(tb::num_threads(), 3);
  tb::set_num_threads(0);
  EXPECT_EQ(tb::num_threads(), n);
}

// Shapes reach the core from file headers and user arguments: a size or stride that does not fit
// in 64 bits is a tb::error (overflow), never a wrapped value (found by fuzzing .npy headers).
TEST(Tensor, ShapesWhoseSizesOverflowAreRefused) {
  constexpr std::int64_t big = std::int64_t{1} << 62;
  // The product past the first dimension is not a stride: this one fits.
  EXPECT_EQ(tb::tensor::contiguous_strides({big, 4}), (tb::shape_t{4, 1}));
  EXPECT_EQ(tb::tensor::contiguous_strides({16963, 70000000000000950}), (tb::shape_t{70000000000000950, 1}));
  auto kind_of = [](auto&& f) {
    try {
      f();
    } catch (const tb::error& e) {
      return e.kind();
    }
    return tb::error_kind::value;  // no error: never the expected kind below
  };
  EXPECT_EQ(kind_of([&] { tb::tensor::contiguous_strides({3, big, 4}); }), tb::error_kind::overflow);
  EXPECT_EQ(kind_of([&] { tb::tensor::contiguous_strides({0, big, 4}); }), tb::error_kind::overflow);
  EXPECT_EQ(kind_of([&] { tb::tensor::empty({big, 4}, tb::dtype::float32); }), tb::error_kind::overflow);
  EXPECT_EQ(kind_of([&] { tb::tensor::empty({0, big, 4}, tb::dtype::float32); }), tb::error_kind::overflow);
  EXPECT_EQ(kind_of([&] { tb::tensor::empty({big / 2}, tb::dtype::float64); }), tb::error_kind::overflow);
  // A view: empty, but NumPy refuses it too, since its non-zero dimensions overflow.
  auto s = tb::storage::allocate(0);
  EXPECT_EQ(kind_of([&] { tb::tensor(s, tb::dtype::uint8, {0, big, 8}, {0, 0, 0}); }), tb::error_kind::overflow);
  tb::tensor none = tb::tensor::empty({0, 3}, tb::dtype::float32);
  EXPECT_EQ(kind_of([&] { none.reshape({0, big, 8}); }), tb::error_kind::overflow);
  tb::tensor t = tb::tensor::empty({2, 3}, tb::dtype::float32);
  EXPECT_EQ(kind_of([&] { t.slice(0, 2, big); }), tb::error_kind::overflow);
}
