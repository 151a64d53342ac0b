// The saved form of an iterator state, the shard/seed rule and the prefetch options' checks:
// rules that the Python package once held and that the C++ API now owns.

#include <gtest/gtest.h>

#include <numeric>
#include <set>
#include <string>
#include <variant>

#include "io_test_support.hpp"
#include "tensorbridge/core/error.hpp"
#include "tensorbridge/pipeline/dataset.hpp"

namespace {

using tb::testing_files::error_of;

using tb::dataset;
using tb::iterator_state;

dataset index_dataset(std::int64_t n) {
  tb::tensor t = tb::tensor::empty({n}, tb::dtype::int64);
  auto* p = static_cast<std::int64_t*>(t.data());
  std::iota(p, p + n, 0);
  return dataset::from_tensor_slices({{"i", t}});
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

iterator_state::record_value value_of(const iterator_state::record& r, const std::string& key) {
  for (const auto& [k, v] : r)
    if (k == key) return v;
  ADD_FAILURE() << "no key " << key;
  return std::string();
}

iterator_state::record with(iterator_state::record r, const std::string& key, iterator_state::record_value v) {
  for (auto& [k, old] : r)
    if (k == key) old = std::move(v);
  return r;
}

iterator_state::record without(iterator_state::record r, const std::string& key) {
  std::erase_if(r, [&](const auto& kv) { return kv.first == key; });
  return r;
}

iterator_state saved_state() {
  dataset ds = index_dataset(40).shuffle({.seed = 1}).batch({.batch_size = 4});
  auto it = ds.iterate({.buffer_size = 0});
  it->next();
  it->next();
  return it->state();
}

TEST(StateRecord, HoldsTheKeysUsersSaveInOrder) {
  iterator_state s;
  s.fingerprint = 0xabcull;
  s.seed = ~std::uint64_t{0};
  s.first_epoch = 3;
  s.yielded = 7;
  s.epoch = 4;
  s.cursor = 2;
  s.num_shards = 2;
  s.shard_index = 1;
  const auto r = s.to_record();
  std::vector<std::string> keys;
  for (const auto& [k, v] : r) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"version", "fingerprint", "seed", "epoch", "cursor", "first_epoch",
                                            "yielded", "num_shards", "shard_index"}));
  EXPECT_EQ(std::get<std::int64_t>(value_of(r, "version")), iterator_state::record_version);
  EXPECT_EQ(std::get<std::string>(value_of(r, "fingerprint")), "0000000000000abc");
  EXPECT_EQ(std::get<std::uint64_t>(value_of(r, "seed")), ~std::uint64_t{0});
  EXPECT_EQ(std::get<std::int64_t>(value_of(r, "yielded")), 7);
  EXPECT_EQ(std::get<std::int64_t>(value_of(r, "shard_index")), 1);
}

TEST(StateRecord, RoundTripsAndResumesTheSameBatches) {
  dataset ds = index_dataset(40).shuffle({.seed = 1}).batch({.batch_size = 4});
  auto it = ds.iterate({.buffer_size = 2});
  it->next();
  it->next();
  const iterator_state back = iterator_state::from_record(it->state().to_record());
  const iterator_state s = it->state();
  EXPECT_EQ(back.fingerprint, s.fingerprint);
  EXPECT_EQ(back.seed, s.seed);
  EXPECT_EQ(back.yielded, s.yielded);
  EXPECT_EQ(back.epoch, s.epoch);
  EXPECT_EQ(back.cursor, s.cursor);
  auto resumed = ds.resume(back, {.buffer_size = 0});
  EXPECT_EQ((*resumed->next())[0].at<std::int64_t>({0}), (*it->next())[0].at<std::int64_t>({0}));
}

TEST(StateRecord, ASeedAboveInt64RoundTrips) {
  iterator_state s;
  s.seed = (std::uint64_t{1} << 63) + 5;
  EXPECT_EQ(iterator_state::from_record(s.to_record()).seed, s.seed);
  // A seed given as a signed integer (how a small value travels) reads the same.
  EXPECT_EQ(iterator_state::from_record(with(s.to_record(), "seed", std::int64_t{9})).seed, 9u);
}

TEST(StateRecord, FingerprintsAreSixteenLowercaseHexDigits) {
  EXPECT_EQ(tb::format_fingerprint(0), "0000000000000000");
  EXPECT_EQ(tb::format_fingerprint(~std::uint64_t{0}), "ffffffffffffffff");
  EXPECT_EQ(tb::format_fingerprint(0x0123456789abcdefull), "0123456789abcdef");
  const auto r = saved_state().to_record();
  EXPECT_EQ(iterator_state::from_record(with(r, "fingerprint", std::string("ABC"))).fingerprint, 0xabcu);
  for (const char* bad : {"", "xyz", "12345678901234567", "-1", "0x10"}) {
    tb::error_kind kind{};
    const std::string m = error_of([&] { iterator_state::from_record(with(r, "fingerprint", std::string(bad))); }, &kind);
    EXPECT_TRUE(contains(m, "'fingerprint' must be 16 hexadecimal digits")) << bad << ": " << m;
    EXPECT_EQ(kind, tb::error_kind::value);
  }
  EXPECT_TRUE(contains(error_of([&] { iterator_state::from_record(with(r, "fingerprint", std::int64_t{5})); }),
                       "'fingerprint' must be 16 hexadecimal digits, got 5"));
}

TEST(StateRecord, AnotherVersionOrMissingKeysAreRefusedNamingThem) {
  const auto r = saved_state().to_record();
  EXPECT_TRUE(contains(error_of([&] { iterator_state::from_record(with(r, "version", std::int64_t{2})); }),
                       "returned by iterator.state() (version 1); got version 2"));
  EXPECT_TRUE(contains(error_of([&] { iterator_state::from_record(without(r, "version")); }), "got no 'version'"));
  EXPECT_TRUE(contains(error_of([&] { iterator_state::from_record(with(r, "version", std::string("1"))); }),
                       "got version \"1\""));
  EXPECT_TRUE(contains(error_of([&] { iterator_state::from_record(without(r, "fingerprint")); }), "iterator.state()"));
  EXPECT_TRUE(contains(error_of([&] { iterator_state::from_record({{"version", std::int64_t{1}},
                                                                  {"fingerprint", std::string("0")}}); }),
                       "state is missing ['seed', 'epoch', 'cursor', 'first_epoch', 'yielded', 'num_shards', "
                       "'shard_index']"));
  EXPECT_TRUE(contains(error_of([&] { iterator_state::from_record(without(r, "cursor")); }), "missing ['cursor']"));
  // Keys it does not know are ignored (a newer writer may add some).
  auto extra = r;
  extra.emplace_back("note", std::string("hello"));
  EXPECT_EQ(iterator_state::from_record(extra).yielded, 2);
}

TEST(StateRecord, ValuesOutsideTheFieldTypeAreRefusedNamingTheKey) {
  const auto r = saved_state().to_record();
  tb::error_kind kind{};
  std::string m = error_of([&] { iterator_state::from_record(with(r, "seed", std::int64_t{-1})); }, &kind);
  EXPECT_TRUE(contains(m, "the state's 'seed' must be an integer in [0, 2**64 - 1], got -1")) << m;
  EXPECT_EQ(kind, tb::error_kind::value);
  m = error_of([&] { iterator_state::from_record(with(r, "yielded", std::uint64_t{1} << 63)); }, &kind);
  EXPECT_TRUE(contains(m, "the state's 'yielded' must be an integer in [-2**63, 2**63 - 1]")) << m;
  EXPECT_EQ(kind, tb::error_kind::value);
  m = error_of([&] { iterator_state::from_record(with(r, "cursor", std::string("2"))); }, &kind);
  EXPECT_TRUE(contains(m, "the state's 'cursor' must be an integer, got text \"2\"")) << m;
  EXPECT_EQ(kind, tb::error_kind::type);
}

TEST(ShardSeed, ARandomSeedRefusesMoreThanOneShard) {
  const dataset drawn = index_dataset(10).shuffle({.seed = tb::draw_seed(), .random_seed = true});
  EXPECT_TRUE(drawn.shuffling().random_seed);
  tb::error_kind kind{};
  const std::string m = error_of([&] { drawn.shard({.num_shards = 2, .index = 0}); }, &kind);
  EXPECT_TRUE(contains(m, "shard() after shuffle(seed=None): pass an explicit seed")) << m;
  EXPECT_EQ(kind, tb::error_kind::value);
  EXPECT_NO_THROW(drawn.shard({.num_shards = 1, .index = 0}));  // one shard: nothing to agree on
  EXPECT_NO_THROW(index_dataset(10).shuffle({.seed = 3}).shard({.num_shards = 2, .index = 1}));
}

TEST(ShardSeed, ASharedDataSetRefusesARandomSeed) {
  const dataset sharded = index_dataset(10).shard({.num_shards = 2, .index = 1});
  const std::string m = error_of([&] { sharded.shuffle({.seed = 7, .random_seed = true}); });
  EXPECT_TRUE(contains(m, "shuffle(seed=None) on a sharded data set: pass an explicit seed")) << m;
  EXPECT_NO_THROW(sharded.shuffle({.seed = 7}));
  EXPECT_NO_THROW(index_dataset(10).shard({.num_shards = 1, .index = 0}).shuffle({.seed = 7, .random_seed = true}));
}

TEST(ShardSeed, DrawnSeedsFitInt64AndDiffer) {
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 8; ++i) {
    const std::uint64_t s = tb::draw_seed();
    EXPECT_LT(s, std::uint64_t{1} << 63);
    seen.insert(s);
  }
  EXPECT_GT(seen.size(), 1u);
}

TEST(PrefetchOptions, ValidateRefusesNegativeBlockBytes) {
  tb::error_kind kind{};
  const std::string m = error_of([] { tb::prefetch_options{.block_bytes = -1}.validate(); }, &kind);
  EXPECT_TRUE(contains(m, "prefetch: block_bytes must be >= 0, got -1")) << m;
  EXPECT_EQ(kind, tb::error_kind::value);
  EXPECT_NO_THROW(tb::prefetch_options{.block_bytes = 0}.validate());
  EXPECT_THROW(index_dataset(4).iterate({.block_bytes = -5}), tb::error);
}

}  // namespace

namespace {

TEST(IterationLength, CountsTakeAfterRepeat) {
  const dataset ds = index_dataset(10).batch({.batch_size = 2});
  EXPECT_EQ(ds.iteration_length(), 5);
  EXPECT_EQ(ds.repeat(3).iteration_length(), 15);
  EXPECT_EQ(ds.repeat(3).take(4).iteration_length(), 4);  // once read as 15: take after repeat counts
  EXPECT_EQ(ds.repeat().iteration_length(), -1);
  EXPECT_EQ(ds.repeat().take(7).iteration_length(), 7);
  auto it = ds.repeat(3).take(4).iterate({.buffer_size = 0});
  std::int64_t n = 0;
  while (it->next()) ++n;
  EXPECT_EQ(n, 4);
}

}  // namespace

namespace {

TEST(EpochStep, IsWhatEachNewIterationAdvances) {
  const dataset ds = index_dataset(6).shuffle({.seed = 2}).batch({.batch_size = 3});
  for (std::int64_t repeat : {-1, 0, 1, 3}) {
    const dataset d = ds.repeat(repeat);
    const std::int64_t step = d.epoch_step();
    EXPECT_EQ(step, repeat < 1 ? 1 : repeat);
    auto first = d.iterate({.buffer_size = 0});
    EXPECT_EQ(first->state().first_epoch, 0);
    auto second = d.iterate({.buffer_size = 0});
    EXPECT_EQ(second->state().first_epoch, step) << "repeat " << repeat;
  }
}

}  // namespace
