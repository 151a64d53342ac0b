#include <gtest/gtest.h>

#include "io_test_support.hpp"
#include "tensorbridge/io/npy.hpp"
#include "tensorbridge/interop/plan.hpp"

namespace {

tb::consumer_limits torch_like() {
  tb::consumer_limits c;
  c.name = "torch";
  c.negative_strides = false;
  c.read_only = false;
  return c;
}

tb::consumer_limits tf_like() {
  tb::consumer_limits c;
  c.name = "tensorflow";
  c.strided = false;
  c.alignment = 64;
  return c;
}

}  // namespace

TEST(Plan, ZeroCopyWhenAllowed) {
  tb::tensor t = tb::tensor::zeros({4, 4}, tb::dtype::float32);
  tb::export_request req;
  req.consumer = tf_like();
  auto plan = tb::plan_export(t, req);
  EXPECT_TRUE(plan.zero_copy);
  EXPECT_TRUE(plan.error.empty());
  EXPECT_EQ(tb::execute(t, plan).data(), t.data());
}

TEST(Plan, CopyReasons) {
  tb::tensor t = tb::tensor::zeros({4, 4}, tb::dtype::float32);
  tb::export_request req;
  req.consumer = torch_like();
  auto rev = tb::plan_export(t.slice(3, -5, -1), req);
  EXPECT_FALSE(rev.zero_copy);
  ASSERT_EQ(rev.reasons.size(), 1u);
  EXPECT_NE(rev.reasons[0].find("negative strides"), std::string::npos);
  EXPECT_EQ(rev.bytes_to_copy, 64u);

  auto ro = tb::plan_export(t.as_read_only(), req);
  EXPECT_FALSE(ro.zero_copy);
  EXPECT_NE(ro.reasons[0].find("read-only"), std::string::npos);

  req.consumer = tf_like();
  auto strided = tb::plan_export(t.transpose(), req);
  EXPECT_FALSE(strided.zero_copy);
  auto out = tb::execute(t.transpose(), strided);
  EXPECT_TRUE(out.is_contiguous());
  EXPECT_TRUE(out.is_aligned(64));
}

TEST(Plan, CopyNeverRaisesWithReason) {
  tb::tensor t = tb::tensor::zeros({4}, tb::dtype::float32).as_read_only();
  tb::export_request req;
  req.consumer = torch_like();
  req.copy = tb::copy_mode::never;
  auto plan = tb::plan_export(t, req);
  EXPECT_EQ(plan.error_kind, tb::error_kind::buffer);
  EXPECT_NE(plan.error.find("copy=False"), std::string::npos);
  EXPECT_THROW(tb::execute(t, plan), tb::error);
}

TEST(Plan, CopyAlwaysAndCasts) {
  tb::tensor t = tb::tensor::zeros({8}, tb::dtype::float64);
  tb::export_request req;
  req.copy = tb::copy_mode::always;
  auto plan = tb::plan_export(t, req);
  EXPECT_FALSE(plan.zero_copy);
  EXPECT_NE(tb::execute(t, plan).data(), t.data());

  req.copy = tb::copy_mode::if_needed;
  req.dtype = tb::dtype::float32;
  auto cast = tb::plan_export(t, req);
  EXPECT_TRUE(cast.lossy);
  EXPECT_EQ(cast.bytes_to_copy, 32u);
  EXPECT_EQ(tb::execute(t, cast).dtype(), tb::dtype::float32);

  req.dtype = tb::dtype::int32;  // float -> int is not same_kind
  auto refused = tb::plan_export(t, req);
  EXPECT_EQ(refused.error_kind, tb::error_kind::type);
  EXPECT_NE(refused.error.find("casting=\"unsafe\""), std::string::npos);

  req.dtype = tb::dtype::complex128;  // safe widening
  auto widen = tb::plan_export(t, req);
  EXPECT_FALSE(widen.lossy);
  EXPECT_TRUE(widen.error.empty());
}

TEST(Plan, Devices) {
  tb::tensor t = tb::tensor::zeros({2}, tb::dtype::float32);
  tb::export_request req;
  req.device = tb::device{tb::device_type::cuda, 0};
  auto plan = tb::plan_export(t, req);
  EXPECT_NE(plan.error.find("\"cuda:0\" is not available"), std::string::npos);
}

TEST(Plan, ReadOnlyFileMapGoesToAWritingConsumerThroughAPrivateMap) {
  const std::string path = tb::testing_files::temp_path("m.npy");
  tb::save_npy(path, tb::tensor::zeros({256}, tb::dtype::float64));
  const std::string before = tb::testing_files::read_file(path);
  tb::tensor mapped = tb::load_npy(path, {.mmap = true});
  tb::export_request req;
  req.consumer = torch_like();
  req.copy = tb::copy_mode::never;  // no copy is needed
  auto plan = tb::plan_export(mapped, req);
  ASSERT_TRUE(plan.error.empty()) << plan.error;
  EXPECT_TRUE(plan.zero_copy);
  EXPECT_TRUE(plan.private_map);
  EXPECT_FALSE(plan.read_only);
  ASSERT_EQ(plan.notes.size(), 1u);
  EXPECT_NE(plan.notes[0].find("private copy-on-write"), std::string::npos);
  EXPECT_NE(plan.summary().find("note: "), std::string::npos);
  tb::tensor out = tb::execute(mapped, plan);
  EXPECT_FALSE(out.read_only());
  EXPECT_NE(out.data(), mapped.data());
  out.at<double>({3}) = 42.0;
  EXPECT_EQ(mapped.at<double>({3}), 0.0);
  EXPECT_EQ(tb::testing_files::read_file(path), before);
}

TEST(Plan, SharingWithAnImmutableConsumerIsNoted) {
  tb::tensor t = tb::tensor::zeros({16}, tb::dtype::float32);
  tb::export_request req;
  req.consumer = tf_like();
  req.consumer.immutable = true;
  auto shared = tb::plan_export(t, req);
  ASSERT_TRUE(shared.zero_copy);
  ASSERT_EQ(shared.notes.size(), 1u);
  EXPECT_NE(shared.notes[0].find("copy=True"), std::string::npos);
  req.copy = tb::copy_mode::always;
  EXPECT_TRUE(tb::plan_export(t, req).notes.empty());  // an independent copy
  req.copy = tb::copy_mode::if_needed;
  req.consumer.immutable = false;
  EXPECT_TRUE(tb::plan_export(t, req).notes.empty());
}

TEST(Plan, ALayoutViewIsPlannedAsItsTensor) {
  tb::tensor t = tb::tensor::zeros({4, 6}, tb::dtype::float32);
  for (const tb::tensor& v : {t, t.transpose(), t.slice(3, -1, -1), t.as_read_only(), t.slice(1, 3)}) {
    for (const auto& limits : {torch_like(), tf_like()}) {
      tb::export_request req;
      req.consumer = limits;
      auto of_tensor = tb::plan_export(v, req);
      auto of_layout = tb::plan_export(v.layout(), req);
      EXPECT_EQ(of_layout.zero_copy, of_tensor.zero_copy) << v.describe();
      EXPECT_EQ(of_layout.reasons, of_tensor.reasons) << v.describe();
      EXPECT_EQ(of_layout.read_only, of_tensor.read_only) << v.describe();
    }
  }
  // Memory no tensor wraps: a foreign array with a negative stride, described in place.
  float data[6] = {};
  const std::int64_t shape[] = {3, 2}, strides[] = {-2, 1};
  tb::layout_view foreign{tb::dtype::float32, shape, strides, data + 4};
  tb::export_request req;
  req.consumer = torch_like();
  auto plan = tb::plan_export(foreign, req);
  EXPECT_FALSE(plan.zero_copy);
  ASSERT_EQ(plan.reasons.size(), 1u);
  EXPECT_EQ(plan.reasons[0], "torch does not accept negative strides");
  req.consumer = tf_like();
  EXPECT_EQ(tb::plan_export(foreign, req).reasons[0],
            "tensorflow needs C-contiguous memory and the source is not (strides (-2, 1) elements)");
}

TEST(Plan, PythonNumbersTakeARequestedDtypeOfAKindTheyFitChecked) {
  tb::tensor ints = tb::tensor::zeros({2}, tb::dtype::int64);
  tb::export_request req;
  req.dtype = tb::dtype::uint8;
  req.rule = tb::casting::safe;  // int64 -> uint8 is not safe for int64 data
  auto plan = tb::plan_export(ints, req);
  EXPECT_FALSE(plan.error.empty());
  req.weak_values = true;  // [1, 2] with dtype=uint8: taken, and checked so 300 raises
  plan = tb::plan_export(ints, req);
  EXPECT_TRUE(plan.error.empty());
  EXPECT_TRUE(plan.checked);
  tb::tensor floats = tb::tensor::zeros({2}, tb::dtype::float64);
  req.dtype = tb::dtype::int32;  // a float does not fit an integer kind: the rule applies
  EXPECT_FALSE(tb::plan_export(floats, req).error.empty());
  req.rule = tb::casting::safe;
  req.dtype = tb::dtype::float16;  // float64 -> float16 is unsafe, but Python floats may take it
  plan = tb::plan_export(floats, req);
  EXPECT_TRUE(plan.error.empty());
  EXPECT_TRUE(plan.checked);
}
