#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <numeric>
#include <set>

#include "pipeline/arena_internal.hpp"
#include "pipeline/sampler_internal.hpp"
#include "tensorbridge/cast/cast.hpp"
#include "tensorbridge/pipeline/dataset.hpp"

namespace {

using tb::dataset;

tb::tensor arange(std::int64_t n) {
  tb::tensor t = tb::tensor::empty({n}, tb::dtype::int64);
  auto* p = static_cast<std::int64_t*>(t.data());
  std::iota(p, p + n, 0);
  return t;
}

// A data set whose samples are their own index (field "i") and a 2-float feature row ("x").
dataset index_dataset(std::int64_t n) {
  tb::tensor x = tb::tensor::empty({n, 2}, tb::dtype::float32);
  for (std::int64_t i = 0; i < n; ++i) {
    x.at<float>({i, 0}) = static_cast<float>(i);
    x.at<float>({i, 1}) = static_cast<float>(-i);
  }
  return dataset::from_tensor_slices({{"i", arange(n)}, {"x", x}});
}

// Every batch of one iteration, as the lists of sample indices.
std::vector<std::vector<std::int64_t>> drain(tb::dataset_iterator& it) {
  std::vector<std::vector<std::int64_t>> out;
  while (auto b = it.next()) {
    const tb::tensor& idx = (*b)[0];
    const tb::tensor& x = (*b)[1];
    std::vector<std::int64_t> v;
    for (std::int64_t r = 0; r < (idx.ndim() ? idx.shape()[0] : 1); ++r) {
      std::int64_t i = idx.ndim() ? idx.at<std::int64_t>({r}) : idx.at<std::int64_t>({});
      float x0 = idx.ndim() ? x.at<float>({r, 0}) : x.at<float>({0});
      EXPECT_EQ(static_cast<float>(i), x0);  // fields stay aligned row by row
      v.push_back(i);
    }
    out.push_back(v);
  }
  return out;
}

std::vector<std::int64_t> flatten(const std::vector<std::vector<std::int64_t>>& batches) {
  std::vector<std::int64_t> out;
  for (auto& b : batches) out.insert(out.end(), b.begin(), b.end());
  return out;
}

TEST(Permutation, IsABijectionForEverySize) {
  for (std::int64_t n = 0; n < 300; ++n) {
    for (std::uint64_t key : {0ull, 1ull, 12345ull}) {
      tb::detail::index_permutation p(n, key);
      std::vector<bool> seen(static_cast<std::size_t>(n), false);
      for (std::int64_t i = 0; i < n; ++i) {
        auto j = p(i);
        ASSERT_GE(j, 0);
        ASSERT_LT(j, n);
        ASSERT_FALSE(seen[static_cast<std::size_t>(j)]) << "n=" << n;
        seen[static_cast<std::size_t>(j)] = true;
      }
    }
  }
}

TEST(Permutation, LooksShuffled) {
  const std::int64_t n = 10000;
  tb::detail::index_permutation p(n, 7);
  std::int64_t fixed = 0, ascending = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    fixed += p(i) == i;
    if (i > 0) ascending += p(i) > p(i - 1);
  }
  EXPECT_LT(fixed, 10);
  EXPECT_NEAR(static_cast<double>(ascending) / n, 0.5, 0.05);
  // The first position lands uniformly across keys (a coarse chi-square over 10 bins).
  std::vector<int> bins(10, 0);
  for (std::uint64_t key = 0; key < 5000; ++key) bins[tb::detail::index_permutation(1000, key)(0) / 100]++;
  for (int b : bins) EXPECT_NEAR(b, 500, 100);
}

struct grid_case {
  std::int64_t n;
  bool shuffle;
  std::int64_t batch;  // 0: unbatched
  bool drop;
  std::int64_t shards;
  tb::shard_padding padding;
};

TEST(Pipeline, ExactlyOncePerEpochOverTheGrid) {
  for (std::int64_t n : {0, 1, 5, 7, 32, 101}) {
    for (bool shuffle : {false, true}) {
      for (std::int64_t batch : {0, 1, 3, 32}) {
        for (bool drop : {false, true}) {
          if (batch == 0 && drop) continue;
          for (std::int64_t shards : {1, 2, 3}) {
            for (auto padding : {tb::shard_padding::wrap, tb::shard_padding::drop, tb::shard_padding::uneven}) {
              for (std::int64_t repeat : {1, 2}) {
                SCOPED_TRACE(::testing::Message() << "n=" << n << " shuffle=" << shuffle << " batch=" << batch
                                                  << " drop=" << drop << " shards=" << shards
                                                  << " padding=" << static_cast<int>(padding) << " repeat=" << repeat);
                std::vector<std::vector<std::vector<std::int64_t>>> per_rank;  // rank -> epoch -> samples
                std::vector<std::int64_t> steps;
                for (std::int64_t r = 0; r < shards; ++r) {
                  dataset ds = index_dataset(n).shuffle({.enabled = shuffle, .seed = 3});
                  ds = ds.shard({.num_shards = shards, .index = r, .padding = padding});
                  if (batch) ds = ds.batch({.batch_size = batch, .drop_remainder = drop});
                  ds = ds.repeat(repeat);
                  auto it = ds.iterate({.buffer_size = 2});
                  auto batches = drain(*it);
                  steps.push_back(static_cast<std::int64_t>(batches.size()));
                  ASSERT_EQ(static_cast<std::int64_t>(batches.size()), ds.batches_per_epoch() * repeat);
                  std::vector<std::vector<std::int64_t>> epochs(static_cast<std::size_t>(repeat));
                  for (std::size_t b = 0; b < batches.size(); ++b) {
                    if (batch) ASSERT_LE(static_cast<std::int64_t>(batches[b].size()), batch);
                    if (batch && drop) ASSERT_EQ(static_cast<std::int64_t>(batches[b].size()), batch);
                    auto& e = epochs[b / static_cast<std::size_t>(ds.batches_per_epoch())];
                    e.insert(e.end(), batches[b].begin(), batches[b].end());
                  }
                  per_rank.push_back(epochs);
                }
                if (padding != tb::shard_padding::uneven)
                  for (auto s : steps) EXPECT_EQ(s, steps[0]) << "ranks must run the same number of steps";
                for (std::int64_t e = 0; e < repeat; ++e) {
                  std::map<std::int64_t, int> count;
                  std::int64_t total = 0;
                  for (auto& rank : per_rank)
                    for (auto i : rank[static_cast<std::size_t>(e)]) ++count[i], ++total;
                  const std::int64_t per_rank_samples = padding == tb::shard_padding::wrap ? (n + shards - 1) / shards
                                                                                            : n / shards;
                  if (!drop || batch == 0) {
                    if (padding == tb::shard_padding::uneven) EXPECT_EQ(total, n);
                    else EXPECT_EQ(total, per_rank_samples * shards);
                  }
                  for (auto [i, c] : count) {
                    ASSERT_GE(i, 0);
                    ASSERT_LT(i, n);
                    if (padding != tb::shard_padding::wrap) EXPECT_EQ(c, 1) << "sample " << i << " seen twice";
                  }
                  if (!drop && padding != tb::shard_padding::drop) EXPECT_EQ(static_cast<std::int64_t>(count.size()), n);
                  if (padding == tb::shard_padding::wrap && n >= shards)
                    for (auto [i, c] : count) EXPECT_LE(c, 2);
                }
              }
            }
          }
        }
      }
    }
  }
}

TEST(Pipeline, EpochsReshuffleAndIterationsAdvanceTheEpoch) {
  dataset ds = index_dataset(50).shuffle({.seed = 9}).batch({.batch_size = 50});
  auto a = flatten(drain(*ds.iterate()));
  auto b = flatten(drain(*ds.iterate()));
  EXPECT_NE(a, b);
  auto sa = a, sb = b;
  std::sort(sa.begin(), sa.end());
  std::sort(sb.begin(), sb.end());
  EXPECT_EQ(sa, sb);
  // The same (seed, epoch) gives the same order in a new data set object.
  dataset again = index_dataset(50).shuffle({.seed = 9}).batch({.batch_size = 50});
  EXPECT_EQ(flatten(drain(*again.iterate())), a);
  EXPECT_EQ(flatten(drain(*again.iterate())), b);
  dataset fixed = index_dataset(50).shuffle({.seed = 9, .reshuffle_each_epoch = false}).batch({.batch_size = 50});
  EXPECT_EQ(flatten(drain(*fixed.iterate())), flatten(drain(*fixed.iterate())));
  dataset other_seed = index_dataset(50).shuffle({.seed = 10}).batch({.batch_size = 50});
  EXPECT_NE(flatten(drain(*other_seed.iterate())), a);
}

TEST(Pipeline, SameStreamWhateverTheThreadsAndDepth) {
  dataset ds = index_dataset(1000).shuffle({.seed = 1}).batch({.batch_size = 7}).repeat(3);
  auto reference = drain(*ds.resume(ds.initial_state(0), {.buffer_size = 0, .block_bytes = 0}));
  ASSERT_EQ(reference.size(), 3u * 143u);
  for (std::int64_t threads : {1, 2, 8})
    for (std::int64_t depth : {0, 1, 2, 5, 16})
      for (std::int64_t block_bytes : {0, 300, 1 << 18}) {  // 1, 2 and 143 (a whole epoch) batches per block
        auto it = ds.resume(ds.initial_state(0), {.buffer_size = depth, .num_threads = threads, .block_bytes = block_bytes});
        EXPECT_EQ(drain(*it), reference) << "threads=" << threads << " depth=" << depth << " block=" << block_bytes;
      }
}

// Blocks of consecutive batches: next_block() after next() returns the rest of the block,
// state_at() names any position already delivered, and blocks never span an epoch.
TEST(Pipeline, BlocksHoldConsecutiveBatchesOfOneEpoch) {
  dataset ds = index_dataset(50).shuffle({.seed = 2}).batch({.batch_size = 8}).repeat(2);  // 7 batches per epoch
  auto reference = drain(*ds.resume(ds.initial_state(0), {.buffer_size = 0, .block_bytes = 0}));
  const std::int64_t three_batches = 3 * 8 * (8 + 8);  // int64 index + 2 floats per sample
  auto it = ds.resume(ds.initial_state(0), {.buffer_size = 2, .block_bytes = three_batches});
  ASSERT_TRUE(it->next());  // batch 0 of block [0, 3)
  std::vector<std::int64_t> firsts, counts;
  std::vector<std::vector<std::int64_t>> rows;
  while (auto block = it->next_block()) {
    firsts.push_back(block->first);
    counts.push_back(block->count());
    EXPECT_EQ(block->offsets.back(), block->fields[0].shape()[0]);
    for (std::int64_t b = 0; b < block->count(); ++b) {
      const tb::tensor idx = block->batch(b)[0];
      std::vector<std::int64_t> v;
      for (std::int64_t r = 0; r < idx.shape()[0]; ++r) v.push_back(idx.at<std::int64_t>({r}));
      EXPECT_EQ(v.size(), static_cast<std::size_t>(block->sizes()[static_cast<std::size_t>(b)]));
      rows.push_back(v);
    }
  }
  EXPECT_EQ(firsts, (std::vector<std::int64_t>{1, 3, 6, 7, 10, 13}));
  EXPECT_EQ(counts, (std::vector<std::int64_t>{2, 3, 1, 3, 3, 1}));
  EXPECT_EQ(rows, std::vector<std::vector<std::int64_t>>(reference.begin() + 1, reference.end()));
  EXPECT_EQ(it->state().yielded, 14);
  const tb::iterator_state mid = it->state_at(9);
  EXPECT_EQ(mid.epoch, 1);
  EXPECT_EQ(mid.cursor, 2);
  EXPECT_THROW(it->state_at(15), tb::error);
  auto rest = drain(*ds.resume(mid));
  EXPECT_EQ(rest, std::vector<std::vector<std::int64_t>>(reference.begin() + 9, reference.end()));
}

TEST(Pipeline, ResumeAtEveryPositionGivesTheSameStream) {
  dataset ds = index_dataset(23).shuffle({.seed = 4}).batch({.batch_size = 4}).repeat(2);
  auto full = drain(*ds.resume(ds.initial_state(5)));
  ASSERT_EQ(full.size(), 12u);
  for (std::size_t k = 0; k <= full.size(); ++k) {
    auto it = ds.resume(ds.initial_state(5), {.buffer_size = 3});
    for (std::size_t i = 0; i < k; ++i) ASSERT_TRUE(it->next());
    tb::iterator_state saved = it->state();
    EXPECT_EQ(saved.yielded, static_cast<std::int64_t>(k));
    EXPECT_EQ(saved.epoch, 5 + static_cast<std::int64_t>(k) / 6);
    EXPECT_EQ(saved.cursor, static_cast<std::int64_t>(k) % 6);
    it.reset();
    dataset fresh = index_dataset(23).shuffle({.seed = 4}).batch({.batch_size = 4}).repeat(2);
    auto rest = drain(*fresh.resume(saved, {.buffer_size = 2, .num_threads = 2}));
    std::vector<std::vector<std::int64_t>> expected(full.begin() + static_cast<std::ptrdiff_t>(k), full.end());
    EXPECT_EQ(rest, expected) << "resumed after " << k << " batches";
  }
}

TEST(Pipeline, ResumeRefusesAnotherDataSetOrShard) {
  dataset ds = index_dataset(20).shuffle({.seed = 4}).batch({.batch_size = 4});
  auto it = ds.iterate();
  it->next();
  tb::iterator_state saved = it->state();
  EXPECT_THROW(index_dataset(21).shuffle({.seed = 4}).batch({.batch_size = 4}).resume(saved), tb::error);
  EXPECT_THROW(index_dataset(20).shuffle({.seed = 4}).batch({.batch_size = 5}).resume(saved), tb::error);
  tb::tensor other = arange(20);
  other.at<std::int64_t>({19}) = 99;  // same shapes, different content
  tb::tensor x = tb::tensor::zeros({20, 2}, tb::dtype::float32);
  EXPECT_THROW(dataset::from_tensor_slices({{"i", other}, {"x", x}}).shuffle({.seed = 4}).batch({.batch_size = 4}).resume(saved),
               tb::error);
  // Another seed, or fields a data set would never produce, name the field and the value expected.
  auto message = [&](auto change) {
    tb::iterator_state forged = saved;
    change(forged);
    try {
      ds.resume(forged);
    } catch (const tb::error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([](auto& s) { s.seed = 5; }).find("'seed' is 5, expected 4"), std::string::npos);
  EXPECT_NE(message([](auto& s) { s.cursor = -5; }).find("'cursor' is -5, expected 1"), std::string::npos);
  EXPECT_NE(message([](auto& s) { s.epoch = 3; }).find("'epoch' is 3, expected 0"), std::string::npos);
  EXPECT_NE(message([](auto& s) { s.yielded = 6; }).find("'yielded' is 6, expected 0 to 5"), std::string::npos);
  EXPECT_NE(message([](auto& s) { s.first_epoch = -1; }).find("'first_epoch' is -1"), std::string::npos);
  EXPECT_THROW(index_dataset(20).shuffle({.seed = 5}).batch({.batch_size = 4}).resume(saved), tb::error);
  EXPECT_NO_THROW(index_dataset(20).shuffle({.seed = 4}).batch({.batch_size = 4}).resume(saved));
  tb::iterator_state wrong_shard = saved;
  wrong_shard.shard_index = 1;
  try {
    ds.resume(wrong_shard);
    FAIL() << "expected an error";
  } catch (const tb::error& e) {
    EXPECT_NE(std::string(e.what()).find("shard"), std::string::npos);
  }
}

TEST(Pipeline, TakeAndSkipWindows) {
  // Before shuffle: a slice of the source.
  auto a = flatten(drain(*index_dataset(10).skip(2).take(5).batch({.batch_size = 3}).iterate()));
  EXPECT_EQ(a, (std::vector<std::int64_t>{2, 3, 4, 5, 6}));
  // After batch: whole batches.
  auto b = drain(*index_dataset(10).batch({.batch_size = 3}).skip(1).take(2).iterate());
  EXPECT_EQ(b, (std::vector<std::vector<std::int64_t>>{{3, 4, 5}, {6, 7, 8}}));
  // After shuffle: the first samples of the shuffled order.
  dataset s = index_dataset(10).shuffle({.seed = 2});
  auto full = flatten(drain(*s.resume(s.initial_state(0))));
  dataset st = index_dataset(10).shuffle({.seed = 2}).take(4);
  EXPECT_EQ(flatten(drain(*st.resume(st.initial_state(0)))), std::vector<std::int64_t>(full.begin(), full.begin() + 4));
  // After repeat: a total batch budget across epochs.
  auto c = drain(*index_dataset(4).batch({.batch_size = 2}).repeat().take(5).iterate());
  EXPECT_EQ(c.size(), 5u);
  EXPECT_THROW(index_dataset(4).repeat().skip(1), tb::error);
  EXPECT_THROW(index_dataset(4).shard({.num_shards = 2}).take(1), tb::error);
}

// As tf.data: a batch size beyond the data set gives one short batch, allocated by its rows.
TEST(Pipeline, BatchLargerThanTheDataSetIsOneShortBatch) {
  for (std::int64_t size : {std::int64_t{11}, std::int64_t{1} << 31, std::int64_t{1} << 60, INT64_MAX}) {
    dataset ds = index_dataset(10).shuffle({.seed = 1}).batch({.batch_size = size});
    EXPECT_EQ(ds.batches_per_epoch(), 1);
    for (std::int64_t depth : {0, 2}) {
      auto batches = drain(*ds.iterate({.buffer_size = depth}));
      ASSERT_EQ(batches.size(), 1u);
      EXPECT_EQ(batches[0].size(), 10u);
    }
    EXPECT_EQ(index_dataset(10).batch({.batch_size = size, .drop_remainder = true}).batches_per_epoch(), 0);
  }
  EXPECT_EQ(drain(*index_dataset(10).batch({.batch_size = 4}).iterate({.buffer_size = std::int64_t{1} << 40})).size(), 3u);
  EXPECT_THROW(index_dataset(10).iterate({.num_threads = 100000}), tb::error);
}

// Parts taken in turns give the whole iteration, in order, each batch made by one part only.
TEST(Pipeline, IterationPartsInTurnsAreTheIteration) {
  dataset ds = index_dataset(23).shuffle({.seed = 4}).batch({.batch_size = 4}).repeat(2);
  auto full = drain(*ds.resume(ds.initial_state(3)));
  ASSERT_EQ(full.size(), 12u);
  for (std::int64_t count : {1, 2, 3, 5, 12, 13}) {
    for (const tb::prefetch_options& p : {tb::prefetch_options{.buffer_size = 0}, tb::prefetch_options{.buffer_size = 3, .num_threads = 2}}) {
      std::vector<std::vector<std::vector<std::int64_t>>> parts;
      for (std::int64_t i = 0; i < count; ++i) {
        auto it = ds.iterate_part(3, {.count = count, .index = i}, p);
        EXPECT_EQ(it->remaining(), (12 - i + count - 1) / count);
        parts.push_back(drain(*it));
      }
      std::vector<std::vector<std::int64_t>> interleaved;
      for (std::size_t j = 0; interleaved.size() < full.size(); ++j)
        for (auto& part : parts)
          if (j < part.size()) interleaved.push_back(part[j]);
      EXPECT_EQ(interleaved, full) << count << " parts";
    }
  }
  EXPECT_THROW(ds.iterate_part(0, {.count = 0}), tb::error);
  EXPECT_THROW(ds.iterate_part(0, {.count = 2, .index = 2}), tb::error);
  EXPECT_THROW(ds.iterate_part(-1, {.count = 2}), tb::error);
}

TEST(Pipeline, UnbatchedYieldsSamples) {
  auto it = index_dataset(3).iterate();
  auto s = it->next();
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)[0].ndim(), 0);
  EXPECT_EQ((*s)[1].shape(), (tb::shape_t{2}));
}

TEST(Pipeline, BadInputGetsClearErrors) {
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const tb::error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([] { dataset::from_tensor_slices({{"x", arange(5)}, {"y", arange(4)}}); }).find("same first dimension"),
            std::string::npos);
  EXPECT_NE(message([] { index_dataset(5).batch({.batch_size = 0}); }).find("at least 1"), std::string::npos);
  EXPECT_NE(message([] { index_dataset(5).batch({.batch_size = -3}); }).find("-3"), std::string::npos);
  EXPECT_NE(message([] { index_dataset(5).shard({.num_shards = 2, .index = 2}); }).find("out of range"),
            std::string::npos);
  EXPECT_NE(message([] { index_dataset(5).batch({.batch_size = 2}).shuffle({}); }).find("shuffle() first"),
            std::string::npos);
  EXPECT_NE(message([] { dataset::from_tensor_slices({}); }).find("no arrays"), std::string::npos);
  EXPECT_NE(message([] { index_dataset(5).map(tb::map_op::one_hot(3), {1}); }).find("integers"), std::string::npos);
  EXPECT_NE(message([] { index_dataset(5).map(tb::map_op::reshape({3}), {1}); }).find("cannot be viewed"),
            std::string::npos);
  EXPECT_NE(message([] { index_dataset(5).map(tb::map_op::cast(tb::dtype::float32), {7}); }).find("out of range"),
            std::string::npos);
}

TEST(Ops, NativeMaps) {
  tb::tensor labels = arange(4);
  labels.at<std::int64_t>({3}) = 1;
  tb::tensor x = tb::tensor::empty({4, 2, 3}, tb::dtype::int32);
  for (std::int64_t i = 0; i < 4; ++i)
    for (std::int64_t j = 0; j < 2; ++j)
      for (std::int64_t k = 0; k < 3; ++k) x.at<std::int32_t>({i, j, k}) = static_cast<std::int32_t>(100 * i + 10 * j + k);
  dataset ds = dataset::from_tensor_slices({{"x", x}, {"y", labels}})
                   .batch({.batch_size = 4})
                   .map(tb::map_op::normalize({1, 2, 3}, {2, 2, 2}), {0})
                   .map(tb::map_op::permute({1, 0}), {0})
                   .map(tb::map_op::reshape({-1}), {0})
                   .map(tb::map_op::one_hot(3, tb::dtype::float16), {1});
  auto spec = ds.element_spec();
  EXPECT_EQ(spec[0].shape, (tb::shape_t{6}));
  EXPECT_EQ(spec[0].dtype, tb::dtype::float32);
  EXPECT_EQ(spec[1].shape, (tb::shape_t{3}));
  auto b = ds.iterate()->next();
  ASSERT_TRUE(b);
  const tb::tensor& xb = (*b)[0];
  EXPECT_EQ(xb.shape(), (tb::shape_t{4, 6}));
  // Sample 2, permuted (k, j) then flattened: element (k=1, j=1) is index 3 -> x[2, 1, 1] = 211.
  EXPECT_FLOAT_EQ(xb.at<float>({2, 3}), (211.0f - 2.0f) / 2.0f);
  const tb::tensor& yb = (*b)[1];
  EXPECT_EQ(yb.shape(), (tb::shape_t{4, 3}));
  tb::tensor y32 = tb::cast(yb, tb::dtype::float32);
  for (std::int64_t i = 0; i < 4; ++i)
    for (std::int64_t c = 0; c < 3; ++c)
      EXPECT_EQ(y32.at<float>({i, c}), c == (i == 3 ? 1 : i) ? 1.0f : 0.0f);
  tb::tensor bad = arange(3);
  bad.at<std::int64_t>({1}) = 5;
  EXPECT_THROW(tb::map_op::one_hot(3).apply(bad), tb::error);
}

TEST(Ops, RandomFlipDrawsFromEachSamplesSeed) {
  tb::tensor x = tb::tensor::empty({64, 3}, tb::dtype::int64);
  for (std::int64_t i = 0; i < 64; ++i)
    for (std::int64_t j = 0; j < 3; ++j) x.at<std::int64_t>({i, j}) = 3 * i + j;
  std::vector<std::uint64_t> seeds;
  for (std::int64_t i = 0; i < 64; ++i) seeds.push_back(tb::sample_seed(1, 0, i));
  const tb::map_op op = tb::map_op::random_flip(0);
  const tb::tensor out = op.apply(x, seeds);
  int flipped = 0;
  for (std::int64_t i = 0; i < 64; ++i) {
    const bool f = out.at<std::int64_t>({i, 0}) != 3 * i;
    flipped += f;
    for (std::int64_t j = 0; j < 3; ++j) EXPECT_EQ(out.at<std::int64_t>({i, j}), 3 * i + (f ? 2 - j : j));
    // The same seed gives the same draw alone as in the batch.
    const std::uint64_t one[] = {seeds[static_cast<std::size_t>(i)]};
    EXPECT_EQ(op.apply(x.slice(i, i + 1), one).at<std::int64_t>({0, 0}), out.at<std::int64_t>({i, 0}));
  }
  EXPECT_GT(flipped, 16);
  EXPECT_LT(flipped, 48);
  EXPECT_THROW(op.apply(x), tb::error);                                    // no seeds
  EXPECT_THROW(tb::map_op::random_flip(0, 2.0).validate(), tb::error);    // bad probability
}

TEST(Gather, StridedSourcesAndBounds) {
  tb::tensor m = tb::tensor::empty({3, 4}, tb::dtype::float64);
  for (std::int64_t i = 0; i < 3; ++i)
    for (std::int64_t j = 0; j < 4; ++j) m.at<double>({i, j}) = static_cast<double>(10 * i + j);
  tb::tensor t = m.transpose();  // (4, 3), rows not contiguous
  tb::tensor out = tb::tensor::empty({2, 3}, tb::dtype::float64);
  std::vector<std::int64_t> idx{3, 1};
  tb::gather_rows(t, idx, out);
  EXPECT_EQ(out.at<double>({0, 2}), 23.0);
  EXPECT_EQ(out.at<double>({1, 0}), 1.0);
  std::vector<std::int64_t> bad{4};
  EXPECT_THROW(tb::gather_rows(t, bad, out.slice(0, 1)), tb::error);
  dataset ds = dataset::from_tensor_slices({{"t", t}}).batch({.batch_size = 4});
  auto b = ds.iterate()->next();
  EXPECT_EQ((*b)[0].at<double>({3, 1}), 13.0);
}

TEST(Arena, RecyclesBuffersWhenTheirTensorsDie) {
  auto arena = tb::detail::batch_arena::create(4);
  void* first;
  {
    tb::tensor a = arena->empty({32, 10}, tb::dtype::float32);
    first = a.data();
    EXPECT_TRUE(a.is_aligned(64));
    EXPECT_EQ(arena->outstanding(), 1);
  }
  EXPECT_EQ(arena->outstanding(), 0);
  EXPECT_EQ(arena->cached(), 1);
  tb::tensor b = arena->empty({32, 10}, tb::dtype::float32);
  EXPECT_EQ(b.data(), first);
  arena.reset();  // the tensor outlives its arena: the block is freed by its deleter
  EXPECT_EQ(b.at<float>({0, 0}), b.at<float>({0, 0}));
}

TEST(Iterator, ClosingMidEpochStopsPromptly) {
  tb::tensor big = tb::tensor::zeros({20000, 64}, tb::dtype::float32);
  dataset ds = dataset::from_tensor_slices({{"x", big}}).shuffle({}).batch({.batch_size = 256}).repeat();
  for (int round = 0; round < 20; ++round) {
    auto start = std::chrono::steady_clock::now();
    auto it = ds.iterate({.buffer_size = 8, .num_threads = 4});
    it->next();
    it.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  }
  auto it = ds.iterate({.buffer_size = 4});
  it->next();
  it->close();
  EXPECT_FALSE(it->next());
  EXPECT_EQ(it->remaining(), -1);
}

TEST(Iterator, WorkerErrorsReachTheConsumer) {
  tb::tensor labels = arange(10);
  labels.at<std::int64_t>({7}) = 50;
  dataset ds = dataset::from_tensor_slices({{"y", labels}}).batch({.batch_size = 4}).map(tb::map_op::one_hot(10));
  auto it = ds.iterate({.buffer_size = 3, .num_threads = 2});
  EXPECT_TRUE(it->next());
  try {
    it->next();
    FAIL() << "expected the one_hot error";
  } catch (const tb::error& e) {
    EXPECT_NE(std::string(e.what()).find("label 50"), std::string::npos);
  }
  EXPECT_EQ(it->state().yielded, 1);
  EXPECT_THROW(it->next(), tb::error);  // the failed batch is made again, not skipped nor the end
  EXPECT_EQ(it->state().yielded, 1);
}

// After an error the iterator stands just before the failed batch, whatever the prefetching: every
// later next() makes that batch again (so a lasting failure raises again), state() counts only
// the batches delivered, and resuming from it yields exactly the batches left.
TEST(Iterator, AnErrorLeavesTheIteratorAtTheFailedBatch) {
  tb::tensor labels = arange(100);
  for (std::int64_t i = 0; i < 100; ++i) labels.at<std::int64_t>({i}) = i % 10;
  labels.at<std::int64_t>({55}) = 50;  // batch 5 of 10
  dataset bad = dataset::from_tensor_slices({{"y", labels}}).batch({.batch_size = 10}).map(tb::map_op::one_hot(10));
  for (const tb::prefetch_options& p : {tb::prefetch_options{.buffer_size = 0, .block_bytes = 0},
                                        tb::prefetch_options{.buffer_size = 0},
                                        tb::prefetch_options{.buffer_size = 2, .num_threads = 1, .block_bytes = 0},
                                        tb::prefetch_options{.buffer_size = 3, .num_threads = 2, .block_bytes = 1600},
                                        tb::prefetch_options{.buffer_size = 4, .num_threads = 4}}) {
    auto it = bad.iterate(p);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(it->next());
    for (int attempt = 0; attempt < 3; ++attempt) {
      EXPECT_THROW(it->next(), tb::error);
      EXPECT_EQ(it->state().yielded, 5);
      EXPECT_EQ(it->state().cursor, 5);
      EXPECT_EQ(it->remaining(), 5);
    }
    tb::iterator_state saved = it->state();
    labels.at<std::int64_t>({55}) = 5;  // the failure goes away: the same iterator goes on at batch 5
    auto rest = it->next();
    ASSERT_TRUE(rest);
    EXPECT_EQ((*rest)[0].at<float>({5, 5}), 1.0f);
    int left = 1;
    while (it->next()) ++left;
    EXPECT_EQ(left, 5);
    auto resumed = bad.resume(saved, p);  // the saved state yields exactly the 5 batches left
    left = 0;
    for (; auto b = resumed->next(); ++left) EXPECT_EQ((*b)[0].at<float>({5, 5}), 1.0f);
    EXPECT_EQ(left, 5);
    labels.at<std::int64_t>({55}) = 50;
  }
}

TEST(Seeds, SampleSeedsDependOnEveryInput) {
  std::set<std::uint64_t> seen;
  for (std::uint64_t s = 0; s < 3; ++s)
    for (std::int64_t e = 0; e < 3; ++e)
      for (std::int64_t i = 0; i < 3; ++i) seen.insert(tb::sample_seed(s, e, i));
  EXPECT_EQ(seen.size(), 27u);
}

}  // namespace

namespace {

TEST(Pipeline, ContinuedPartsActAsOneArray) {
  tb::tensor a = arange(5), b = arange(3), c = tb::tensor::empty({0}, tb::dtype::int64), d = arange(4);
  dataset ds = dataset::from_tensor_slices({{"i", a, {b, c, d}}}).shuffle({.seed = 1}).batch({.batch_size = 5});
  EXPECT_EQ(ds.source_size(), 12);
  std::vector<std::int64_t> got;
  auto it = ds.iterate();
  while (auto batch = it->next())
    for (std::int64_t r = 0; r < (*batch)[0].shape()[0]; ++r) got.push_back((*batch)[0].at<std::int64_t>({r}));
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::int64_t>{0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4}));
  EXPECT_THROW(dataset::from_tensor_slices({{"i", a, {tb::tensor::empty({2, 2}, tb::dtype::int64)}}}), tb::error);
  EXPECT_THROW(dataset::from_tensor_slices({{"i", a, {b}}, {"j", arange(5)}}), tb::error);
}

}  // namespace
