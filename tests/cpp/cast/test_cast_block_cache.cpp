// The cache of freed large blocks behind storage::allocate (and so behind every fresh cast
// output): reuse, the bound and its eviction order, disabling, the leak counter, threads.

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "tensorbridge/core/block_cache.hpp"
#include "tensorbridge/cast/cast.hpp"
#include "tensorbridge/core/tensor.hpp"

namespace {

using tb::dtype;
using tb::tensor;

constexpr std::size_t mib = std::size_t{1} << 20;

// Sets a bound for one test, starting from an empty cache, and restores the default afterwards.
struct limit_scope {
  explicit limit_scope(std::size_t bytes) {
    tb::clear_block_cache();
    tb::set_block_cache_limit(bytes);
  }
  ~limit_scope() {
    tb::clear_block_cache();
    tb::set_block_cache_limit(tb::default_block_cache_limit);
  }
};

TEST(BlockCache, ReusesAFreedBlockOfTheSameSizeClass) {
  limit_scope scope(64 * mib);
  void* first = nullptr;
  {
    tensor t = tensor::empty({4 * static_cast<std::int64_t>(mib)}, dtype::uint8);
    first = t.data();
    std::memset(t.data(), 7, t.nbytes());
  }
  auto stats = tb::block_cache_statistics();
  EXPECT_EQ(stats.cached_blocks, 1u);
  EXPECT_EQ(stats.cached_bytes, 4 * mib);
  const auto hits = stats.hits;
  // A slightly smaller request falls in the same class (4 MiB) and gets the same block.
  tensor again = tensor::empty({static_cast<std::int64_t>(4 * mib - 1000)}, dtype::uint8);
  EXPECT_EQ(again.data(), first);
  EXPECT_TRUE(again.is_aligned(64));
  stats = tb::block_cache_statistics();
  EXPECT_EQ(stats.hits, hits + 1);
  EXPECT_EQ(stats.cached_blocks, 0u);
  // A different class does not take it.
  tensor other = tensor::empty({static_cast<std::int64_t>(6 * mib)}, dtype::uint8);
  EXPECT_NE(other.data(), first);
}

TEST(BlockCache, HugePageBlocksStayHugePageAligned) {
  limit_scope scope(256 * mib);
  { tensor t = tensor::empty({static_cast<std::int64_t>(24 * mib / 4)}, dtype::float32); }
  tensor t = tensor::empty({static_cast<std::int64_t>(24 * mib / 4)}, dtype::float32);
  EXPECT_TRUE(t.is_aligned(std::size_t{1} << 21));
  EXPECT_EQ(tb::block_cache_statistics().cached_blocks, 0u);
}

TEST(BlockCache, SmallBlocksAreNotCached) {
  limit_scope scope(64 * mib);
  { tensor t = tensor::empty({static_cast<std::int64_t>(tb::block_cache_min_bytes / 2)}, dtype::uint8); }
  EXPECT_EQ(tb::block_cache_statistics().cached_blocks, 0u);
}

TEST(BlockCache, BoundEvictsTheLeastRecentlyFreed) {
  limit_scope scope(10 * mib);
  void* a_data = nullptr;
  void* b_data = nullptr;
  {
    tensor a = tensor::empty({static_cast<std::int64_t>(4 * mib)}, dtype::uint8);
    tensor b = tensor::empty({static_cast<std::int64_t>(4 * mib)}, dtype::uint8);
    tensor c = tensor::empty({static_cast<std::int64_t>(4 * mib)}, dtype::uint8);
    a_data = a.data();
    b_data = b.data();
    // Destroyed c, b, a (reverse order of declaration): c then b fit in 10 MiB; a evicts c.
  }
  auto stats = tb::block_cache_statistics();
  EXPECT_EQ(stats.cached_blocks, 2u);
  EXPECT_EQ(stats.cached_bytes, 8 * mib);
  EXPECT_LE(stats.cached_bytes, stats.limit);
  // The most recently freed block comes back first.
  tensor x = tensor::empty({static_cast<std::int64_t>(4 * mib)}, dtype::uint8);
  tensor y = tensor::empty({static_cast<std::int64_t>(4 * mib)}, dtype::uint8);
  EXPECT_EQ(x.data(), a_data);
  EXPECT_EQ(y.data(), b_data);
}

TEST(BlockCache, BlocksLargerThanTheBoundAreFreed) {
  limit_scope scope(8 * mib);
  { tensor t = tensor::empty({static_cast<std::int64_t>(16 * mib)}, dtype::uint8); }
  EXPECT_EQ(tb::block_cache_statistics().cached_bytes, 0u);
}

TEST(BlockCache, LoweringTheBoundReleasesBlocks) {
  limit_scope scope(64 * mib);
  {
    tensor a = tensor::empty({static_cast<std::int64_t>(8 * mib)}, dtype::uint8);
    tensor b = tensor::empty({static_cast<std::int64_t>(8 * mib)}, dtype::uint8);
  }
  EXPECT_EQ(tb::block_cache_statistics().cached_bytes, 16 * mib);
  tb::set_block_cache_limit(9 * mib);
  EXPECT_EQ(tb::block_cache_statistics().cached_bytes, 8 * mib);
  EXPECT_EQ(tb::block_cache_limit(), 9 * mib);
  tb::clear_block_cache();
  EXPECT_EQ(tb::block_cache_statistics().cached_bytes, 0u);
}

TEST(BlockCache, DisabledCacheKeepsNothing) {
  limit_scope scope(0);
  const auto before = tb::block_cache_statistics();
  for (int i = 0; i < 3; ++i) {
    tensor t = tensor::empty({static_cast<std::int64_t>(2 * mib)}, dtype::uint8);
  }
  const auto after = tb::block_cache_statistics();
  EXPECT_EQ(after.limit, 0u);
  EXPECT_EQ(after.cached_bytes, 0u);
  EXPECT_EQ(after.hits, before.hits);
  EXPECT_EQ(after.misses, before.misses);  // a disabled cache is not consulted
}

TEST(BlockCache, CachedBlocksAreNotLiveStorages) {
  limit_scope scope(64 * mib);
  const auto live = tb::storage::live_count();
  {
    tensor t = tensor::empty({static_cast<std::int64_t>(4 * mib)}, dtype::uint8);
    EXPECT_EQ(tb::storage::live_count(), live + 1);
  }
  EXPECT_EQ(tb::block_cache_statistics().cached_blocks, 1u);
  EXPECT_EQ(tb::storage::live_count(), live);
}

TEST(BlockCache, RepeatedFreshCastsReuseOneBlock) {
  limit_scope scope(64 * mib);
  tensor src = tensor::empty({static_cast<std::int64_t>(mib)}, dtype::float64);
  auto* p = static_cast<double*>(src.data());
  for (std::int64_t i = 0; i < src.numel(); ++i) p[i] = static_cast<double>(i) * 0.5;
  void* first = nullptr;
  for (int step = 0; step < 4; ++step) {
    tensor out = tb::cast(src, dtype::float32);
    if (step == 0) first = out.data();
    EXPECT_EQ(out.data(), first) << step;
    // A reused block holds the previous contents until the cast overwrites every element.
    const auto* f = static_cast<const float*>(out.data());
    for (std::int64_t i = 0; i < out.numel(); i += 4097) ASSERT_EQ(f[i], static_cast<float>(i) * 0.5f);
  }
}

// Threads allocate, write, check and free blocks of a few classes concurrently: every block must be
// theirs alone (no block handed out twice), and the accounting must end consistent.
TEST(BlockCacheThreaded, ConcurrentAllocateAndFree) {
  limit_scope scope(24 * mib);
  std::atomic<int> corrupt{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t, &corrupt] {
      for (int i = 0; i < 40; ++i) {
        const std::size_t size = (1 + static_cast<std::size_t>((t + i) % 3)) * mib;
        tensor a = tensor::empty({static_cast<std::int64_t>(size)}, dtype::uint8);
        const auto tag = static_cast<unsigned char>(t * 40 + i);
        std::memset(a.data(), tag, size);
        std::this_thread::yield();
        const auto* b = static_cast<const unsigned char*>(a.data());
        for (std::size_t k = 0; k < size; k += 4096)
          if (b[k] != tag) corrupt.fetch_add(1);
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(corrupt.load(), 0);
  auto stats = tb::block_cache_statistics();
  EXPECT_LE(stats.cached_bytes, stats.limit);
  EXPECT_GT(stats.hits, 0u);
  std::size_t blocks = stats.cached_blocks;
  tb::clear_block_cache();
  EXPECT_EQ(tb::block_cache_statistics().cached_blocks, 0u);
  EXPECT_GT(blocks, 0u);
}

TEST(BlockCacheThreaded, LimitChangesWhileThreadsAllocate) {
  limit_scope scope(16 * mib);
  std::atomic<bool> stop{false};
  std::thread changer([&] {
    std::size_t limits[] = {0, 4 * mib, 16 * mib, 2 * mib};
    for (int i = 0; !stop.load(); ++i) {
      tb::set_block_cache_limit(limits[i % 4]);
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < 2; ++t)
    workers.emplace_back([] {
      for (int i = 0; i < 60; ++i) {
        tensor a = tensor::empty({static_cast<std::int64_t>(2 * mib)}, dtype::uint8);
        std::memset(a.data(), i, a.nbytes());
      }
    });
  for (auto& w : workers) w.join();
  stop = true;
  changer.join();
  tb::set_block_cache_limit(16 * mib);
  auto stats = tb::block_cache_statistics();
  EXPECT_LE(stats.cached_bytes, stats.limit);
}

}  // namespace
