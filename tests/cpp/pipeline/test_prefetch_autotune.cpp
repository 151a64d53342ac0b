#include <gtest/gtest.h>

#include <numeric>

#include "tensorbridge/pipeline/dataset.hpp"
#include "tensorbridge/core/error.hpp"
#include "tensorbridge/core/threads.hpp"

namespace {

using tb::prefetch_options;

tb::dataset rows(std::int64_t n, std::int64_t width, std::int64_t batch) {
  tb::tensor x = tb::tensor::empty({n, width}, tb::dtype::float64);
  auto* p = static_cast<double*>(x.data());
  std::iota(p, p + n * width, 0.0);
  return tb::dataset::from_tensor_slices({{"x", x}}).batch({.batch_size = batch});
}

TEST(PrefetchAutotune, ValidateAcceptsAutotuneOnly) {
  EXPECT_NO_THROW((prefetch_options{.buffer_size = prefetch_options::autotune, .num_threads = prefetch_options::autotune})
                      .validate());
  EXPECT_THROW((prefetch_options{.buffer_size = -2}).validate(), tb::error);
  EXPECT_THROW((prefetch_options{.num_threads = -3}).validate(), tb::error);
}

TEST(PrefetchAutotune, SmallBlocksGetFourPerThread) {
  tb::set_num_threads(2);
  const prefetch_options p = prefetch_options{.buffer_size = prefetch_options::autotune,
                                              .num_threads = prefetch_options::autotune}.resolve(4096);
  EXPECT_EQ(p.num_threads, 2);
  EXPECT_EQ(p.buffer_size, 8);
  tb::set_num_threads(0);
}

TEST(PrefetchAutotune, BigBlocksStayWithinTheBudgetButNeverUnderTwo) {
  tb::set_num_threads(4);
  const auto autotuned =
      prefetch_options{.buffer_size = prefetch_options::autotune, .num_threads = prefetch_options::autotune};
  const prefetch_options mid = autotuned.resolve(prefetch_options::autotune_bytes / 3);
  EXPECT_EQ(mid.buffer_size, 3);
  EXPECT_EQ(mid.num_threads, 3);  // no more threads than slots
  const prefetch_options huge = autotuned.resolve(prefetch_options::autotune_bytes * 10);
  EXPECT_EQ(huge.buffer_size, 2);
  EXPECT_EQ(huge.num_threads, 2);
  tb::set_num_threads(0);
}

TEST(PrefetchAutotune, ExplicitFieldsAreKept) {
  const prefetch_options p = prefetch_options{.buffer_size = 5, .num_threads = prefetch_options::autotune}.resolve(1);
  EXPECT_EQ(p.buffer_size, 5);
  EXPECT_GE(p.num_threads, 1);
  const prefetch_options q = prefetch_options{.buffer_size = prefetch_options::autotune, .num_threads = 1}.resolve(1);
  EXPECT_EQ(q.num_threads, 1);
  EXPECT_EQ(q.buffer_size, 4);  // at most four blocks per thread
}

TEST(PrefetchAutotune, DatasetResolvesFromItsBlockSize) {
  tb::set_num_threads(2);
  // 32 rows x 10 float64 = 2560 bytes a batch, 102 batches a block of 256 KiB: 64 blocks fit.
  const tb::dataset ds = rows(100, 10, 32);
  const prefetch_options p = ds.resolve_prefetch({.buffer_size = prefetch_options::autotune});
  EXPECT_EQ(p.buffer_size, 8);
  EXPECT_EQ(p.num_threads, 0);  // left automatic: min(depth, threads) when iterating
  std::int64_t seen = 0;
  auto it = ds.iterate({.buffer_size = prefetch_options::autotune, .num_threads = prefetch_options::autotune});
  while (auto b = it->next()) seen += (*b)[0].shape()[0];
  EXPECT_EQ(seen, 100);
  tb::set_num_threads(0);
}

}  // namespace
