#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tensorbridge/interop/arrow.hpp"

namespace {

// A hand-built producer: one array node (and its schema) owning its buffers, counting releases.
struct fake {
  std::string format, name;
  std::vector<std::vector<std::uint8_t>> data;
  std::vector<const void*> buffers;
  int* releases = nullptr;
};

void release_schema(tb::arrow_schema* s) { s->release = nullptr; }
void release_array(tb::arrow_array* a) {
  ++*static_cast<fake*>(a->private_data)->releases;
  a->release = nullptr;
}

template <class T>
std::vector<std::uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<std::uint8_t> out(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
  return out;
}

std::vector<std::uint8_t> bitmap(const std::vector<bool>& bits) {
  std::vector<std::uint8_t> out((bits.size() + 7) / 8, 0);
  for (std::size_t i = 0; i < bits.size(); ++i)
    if (bits[i]) out[i / 8] |= static_cast<std::uint8_t>(1u << (i % 8));
  return out;
}

// Owns the fake tree and exposes the C structs.
struct producer {
  std::unique_ptr<fake> root;
  tb::arrow_schema schema{};
  tb::arrow_array array{};
  int releases = 0;

  void fill(fake& f, tb::arrow_schema& s, tb::arrow_array& a, std::int64_t length, std::int64_t nulls) {
    f.releases = &releases;
    for (auto& d : f.data) f.buffers.push_back(d.empty() ? nullptr : d.data());
    s = tb::arrow_schema{f.format.c_str(), f.name.c_str(), nullptr, tb::arrow_flag_nullable, 0, nullptr, nullptr,
                         release_schema, &f};
    a = tb::arrow_array{length, nulls, 0, static_cast<std::int64_t>(f.buffers.size()), 0, f.buffers.data(), nullptr,
                        nullptr, release_array, &f};
  }
};

// A primitive array of `values` (of T) with format `format`, validity `valid` (empty: none).
template <class T>
std::unique_ptr<producer> primitive(const char* format, std::vector<T> values, std::vector<bool> valid = {}) {
  auto p = std::make_unique<producer>();
  p->root = std::make_unique<fake>();
  p->root->format = format;
  p->root->name = "x";
  p->root->data.push_back(valid.empty() ? std::vector<std::uint8_t>{} : bitmap(valid));
  p->root->data.push_back(bytes_of(values));
  std::int64_t nulls = 0;
  for (bool v : valid) nulls += !v;
  p->fill(*p->root, p->schema, p->array, static_cast<std::int64_t>(values.size()), nulls);
  return p;
}

}  // namespace

TEST(Arrow, PrimitiveImportIsZeroCopyAndReleasedOnceAfterLastTensor) {
  auto p = primitive<double>("g", {1.5, 2.5, 3.5});
  const void* data = p->root->buffers[1];
  tb::tensor kept;
  {
    tb::arrow_column c = tb::import_arrow(&p->schema, &p->array);
    EXPECT_EQ(p->array.release, nullptr);  // moved out of the caller's struct
    EXPECT_EQ(c.values.data(), data);
    EXPECT_EQ(c.values.dtype(), tb::dtype::float64);
    EXPECT_EQ(c.name, "x");
    EXPECT_TRUE(c.values.read_only());
    kept = c.values.slice(1, 3);
  }
  EXPECT_EQ(p->releases, 0);  // a view is still alive
  EXPECT_EQ(kept.at<double>({0}), 2.5);
  kept = tb::tensor();
  EXPECT_EQ(p->releases, 1);
}

TEST(Arrow, EveryDtypeImports) {
  struct row { const char* format; tb::dtype dtype; };
  const row rows[] = {{"c", tb::dtype::int8},     {"C", tb::dtype::uint8},   {"s", tb::dtype::int16},
                      {"S", tb::dtype::uint16},   {"i", tb::dtype::int32},   {"I", tb::dtype::uint32},
                      {"l", tb::dtype::int64},    {"L", tb::dtype::uint64},  {"e", tb::dtype::float16},
                      {"f", tb::dtype::float32},  {"g", tb::dtype::float64}};
  for (const row& r : rows) {
    const std::size_t size = tb::itemsize(r.dtype);
    auto p = primitive<std::uint8_t>(r.format, std::vector<std::uint8_t>(4 * size, 1));
    p->array.length = 4;
    tb::arrow_column c = tb::import_arrow(&p->schema, &p->array);
    EXPECT_EQ(c.values.dtype(), r.dtype) << r.format;
    EXPECT_EQ(c.values.shape(), (tb::shape_t{4}));
    EXPECT_EQ(c.values.data(), p->root->buffers[1]);
  }
}

TEST(Arrow, OffsetIsHonoured) {
  auto p = primitive<std::int32_t>("i", {10, 20, 30, 40});
  p->array.offset = 1;
  p->array.length = 2;
  tb::arrow_column c = tb::import_arrow(&p->schema, &p->array);
  EXPECT_EQ(c.values.at<std::int32_t>({0}), 20);
  EXPECT_EQ(c.values.shape(), (tb::shape_t{2}));
}

TEST(Arrow, NullsGiveMaskOrFill) {
  {
    auto p = primitive<std::int64_t>("l", {1, 0, 3}, {true, false, true});
    tb::arrow_column c = tb::import_arrow(&p->schema, &p->array);
    ASSERT_TRUE(c.valid.has_value());
    EXPECT_FALSE(c.valid->at<bool>({1}));
    EXPECT_TRUE(c.valid->at<bool>({2}));
    EXPECT_EQ(c.values.data(), p->root->buffers[1]);
  }
  {
    auto p = primitive<std::int64_t>("l", {1, 0, 3}, {true, false, true});
    tb::arrow_column c = tb::import_arrow(&p->schema, &p->array, {.fill_value = -7});
    EXPECT_FALSE(c.valid.has_value());
    EXPECT_EQ(c.values.at<std::int64_t>({1}), -7);
    EXPECT_EQ(p->releases, 1);  // the filled values are a copy: nothing keeps the producer
  }
  {
    auto p = primitive<std::int64_t>("l", {1, 0, 3}, {true, false, true});
    EXPECT_THROW(tb::import_arrow(&p->schema, &p->array, {.fill_value = 0.5}), tb::error);
    EXPECT_EQ(p->releases, 1);  // released at once when the import throws
  }
}

TEST(Arrow, BitPackedBools) {
  auto p = std::make_unique<producer>();
  p->root = std::make_unique<fake>();
  p->root->format = "b";
  p->root->data.push_back({});
  p->root->data.push_back(bitmap({true, false, true, true, false, false, false, false, true}));
  p->fill(*p->root, p->schema, p->array, 9, 0);
  p->array.offset = 1;
  p->array.length = 8;
  tb::arrow_column c = tb::import_arrow(&p->schema, &p->array);
  EXPECT_EQ(c.values.dtype(), tb::dtype::bool_);
  EXPECT_FALSE(c.values.at<bool>({0}));
  EXPECT_TRUE(c.values.at<bool>({1}));
  EXPECT_TRUE(c.values.at<bool>({7}));
}

namespace {
std::unique_ptr<producer> strings(const char* format, const std::vector<std::string>& values) {
  auto p = std::make_unique<producer>();
  p->root = std::make_unique<fake>();
  p->root->format = format;
  p->root->name = "s";
  std::vector<std::int32_t> offsets{0};
  std::string data;
  for (const auto& v : values) {
    data += v;
    offsets.push_back(static_cast<std::int32_t>(data.size()));
  }
  p->root->data.push_back({});
  p->root->data.push_back(bytes_of(offsets));
  p->root->data.push_back(std::vector<std::uint8_t>(data.begin(), data.end()));
  if (p->root->data.back().empty()) p->root->data.back().push_back(0);
  p->fill(*p->root, p->schema, p->array, static_cast<std::int64_t>(values.size()), 0);
  return p;
}
}  // namespace

TEST(Arrow, Utf8Strings) {
  auto p = strings("u", {"ab", "", "cde"});
  tb::arrow_column c = tb::import_arrow(&p->schema, &p->array);
  EXPECT_EQ(c.kind, tb::arrow_column_kind::strings);
  EXPECT_EQ(c.strings, (std::vector<std::string>{"ab", "", "cde"}));
  EXPECT_EQ(p->releases, 1);  // strings are copied: nothing keeps the producer
}

TEST(Arrow, MalformedInputIsAFormatErrorNamingTheColumn) {
  auto expect_format = [](producer& p, const char* needle) {
    try {
      tb::import_arrow(&p.schema, &p.array);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const tb::error& e) {
      EXPECT_EQ(e.kind(), tb::error_kind::format) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("\"x\""), std::string::npos) << e.what();
    }
    EXPECT_EQ(p.releases, 1);
  };
  { auto p = primitive<float>("q", {1}); expect_format(*p, "unknown Arrow format string \"q\""); }
  { auto p = primitive<float>("+w:abc", {1}); expect_format(*p, "malformed Arrow format"); }
  { auto p = primitive<float>("f", {1}); p->array.length = -1; expect_format(*p, "negative Arrow array length"); }
  { auto p = primitive<float>("f", {1}); p->array.offset = -3; expect_format(*p, "negative Arrow array offset"); }
  { auto p = primitive<float>("f", {1}); p->array.null_count = 1; expect_format(*p, "no validity bitmap"); }
  { auto p = primitive<float>("f", {1}); p->root->buffers[1] = nullptr; expect_format(*p, "buffer 1"); }
  { auto p = primitive<float>("f", {1}); p->array.n_buffers = 3; expect_format(*p, "has 2 buffers, got 3"); }
  { auto p = primitive<float>("f", {1}); p->array.n_children = 1; expect_format(*p, "children"); }
  {
    auto p = strings("u", {"ab", "c"});
    p->root->name = "x";
    p->schema.name = p->root->name.c_str();
    reinterpret_cast<std::int32_t*>(p->root->data[1].data())[1] = 5;
    reinterpret_cast<std::int32_t*>(p->root->data[1].data())[2] = 1;
    expect_format(*p, "below the previous offset");
  }
}

TEST(Arrow, ReleasedStructsAreRefused) {
  auto p = primitive<float>("f", {1});
  p->schema.release = nullptr;
  EXPECT_THROW(tb::import_arrow(&p->schema, &p->array), tb::error);
  EXPECT_EQ(p->releases, 1);
}

TEST(Arrow, ExportRoundTripsEveryDtypeWithoutCopy) {
  for (tb::dtype d : {tb::dtype::int8, tb::dtype::uint16, tb::dtype::int32, tb::dtype::uint64, tb::dtype::float16,
                      tb::dtype::bfloat16, tb::dtype::float32, tb::dtype::float64}) {
    tb::tensor t = tb::tensor::zeros({5}, d);
    tb::arrow_schema s{};
    tb::arrow_array a{};
    tb::export_arrow(t, &s, &a, "v");
    EXPECT_EQ(a.buffers[1], t.data());
    tb::arrow_column c = tb::import_arrow(&s, &a);
    EXPECT_EQ(c.values.dtype(), d);
    EXPECT_EQ(c.values.data(), t.data());
    EXPECT_EQ(c.name, "v");
  }
}

TEST(Arrow, TwoDimensionalTensorIsAFixedSizeList) {
  tb::tensor t = tb::tensor::empty({3, 4}, tb::dtype::float32);
  for (int i = 0; i < 12; ++i) static_cast<float*>(t.data())[i] = static_cast<float>(i);
  tb::arrow_schema s{};
  tb::arrow_array a{};
  tb::export_arrow(t, &s, &a);
  EXPECT_STREQ(s.format, "+w:4");
  a.offset = 1;  // rows 1..2
  a.length = 2;
  tb::arrow_column c = tb::import_arrow(&s, &a);
  EXPECT_EQ(c.values.shape(), (tb::shape_t{2, 4}));
  EXPECT_EQ(c.values.at<float>({0, 0}), 4.0f);
  EXPECT_EQ(c.values.data(), static_cast<float*>(t.data()) + 4);
}

TEST(Arrow, BoolAndComplexExport) {
  tb::tensor b = tb::tensor::zeros({10}, tb::dtype::bool_);
  static_cast<bool*>(b.data())[9] = true;
  tb::arrow_schema s{};
  tb::arrow_array a{};
  tb::export_arrow(b, &s, &a);
  tb::arrow_column c = tb::import_arrow(&s, &a);
  EXPECT_TRUE(c.values.at<bool>({9}));
  EXPECT_FALSE(c.values.at<bool>({8}));
  EXPECT_THROW(tb::export_arrow(tb::tensor::zeros({2}, tb::dtype::complex64), &s, &a), tb::error);
  EXPECT_THROW(tb::export_arrow(tb::tensor::zeros({2, 2, 2}, tb::dtype::float32), &s, &a), tb::error);
}

namespace {
// A stream of `n` batches of one int32 column "v", batch b holding {b*10, b*10+1}; fails at
// batch `fail_at` (-1: never).
struct batch_stream {
  int n, fail_at, next = 0;
  int released = 0;
  std::vector<std::unique_ptr<tb::tensor>> keep;
};
int bs_schema(tb::arrow_array_stream* st, tb::arrow_schema* out) {
  tb::tensor t = tb::tensor::zeros({0}, tb::dtype::int32);
  std::vector<tb::arrow_column> cols(1);
  cols[0].name = "v";
  cols[0].values = t;
  tb::arrow_array a{};
  tb::export_arrow_columns(cols, out, &a);
  a.release(&a);
  return 0;
}
int bs_next(tb::arrow_array_stream* st, tb::arrow_array* out) {
  auto* p = static_cast<batch_stream*>(st->private_data);
  if (p->next == p->fail_at) return 5;
  if (p->next == p->n) {
    out->release = nullptr;
    return 0;
  }
  tb::tensor t = tb::tensor::empty({2}, tb::dtype::int32);
  static_cast<std::int32_t*>(t.data())[0] = p->next * 10;
  static_cast<std::int32_t*>(t.data())[1] = p->next * 10 + 1;
  ++p->next;
  std::vector<tb::arrow_column> cols(1);
  cols[0].name = "v";
  cols[0].values = t;
  tb::arrow_schema s{};
  tb::export_arrow_columns(cols, &s, out);
  s.release(&s);
  return 0;
}
const char* bs_error(tb::arrow_array_stream*) { return "disk on fire"; }
void bs_release(tb::arrow_array_stream* st) {
  ++static_cast<batch_stream*>(st->private_data)->released;
  st->release = nullptr;
}
}  // namespace

TEST(Arrow, ChunkedStreamIsGathered) {
  batch_stream state{3, -1};
  tb::arrow_array_stream st{bs_schema, bs_next, bs_error, bs_release, &state};
  std::vector<tb::arrow_column> cols = tb::import_arrow_stream(&st);
  EXPECT_EQ(state.released, 1);
  ASSERT_EQ(cols.size(), 1u);
  ASSERT_EQ(cols[0].values.shape(), (tb::shape_t{6}));
  EXPECT_EQ(cols[0].values.at<std::int32_t>({5}), 21);
}

TEST(Arrow, StreamErrorMidwayIsAnIoErrorWithTheProducersMessage) {
  batch_stream state{3, 1};
  tb::arrow_array_stream st{bs_schema, bs_next, bs_error, bs_release, &state};
  try {
    tb::import_arrow_stream(&st);
    ADD_FAILURE();
  } catch (const tb::error& e) {
    EXPECT_EQ(e.kind(), tb::error_kind::io);
    EXPECT_NE(std::string(e.what()).find("disk on fire"), std::string::npos);
  }
  EXPECT_EQ(state.released, 1);
}

TEST(Arrow, UnsupportedTypesAreNamedWithTheColumn) {
  // A struct column inside a record batch.
  tb::tensor v = tb::tensor::zeros({2}, tb::dtype::int32);
  std::vector<tb::arrow_column> inner(1);
  inner[0].name = "v";
  inner[0].values = v;
  tb::arrow_schema s{};
  tb::arrow_array a{};
  tb::export_arrow_columns(inner, &s, &a);
  // Wrap it as the child "nested" of a one-column batch.
  tb::arrow_schema* schild = &s;
  tb::arrow_array* achild = &a;
  const void* no_validity[1] = {nullptr};
  s.name = "nested";
  tb::arrow_schema outer_s{"+s", "", nullptr, 0, 1, &schild, nullptr, [](tb::arrow_schema* x) {
                             x->children[0]->release(x->children[0]);
                             x->release = nullptr;
                           }, nullptr};
  tb::arrow_array outer_a{2, 0, 0, 1, 1, no_validity, &achild, nullptr, [](tb::arrow_array* x) {
                            x->children[0]->release(x->children[0]);
                            x->release = nullptr;
                          }, nullptr};
  try {
    tb::import_arrow_columns(&outer_s, &outer_a);
    ADD_FAILURE();
  } catch (const tb::error& e) {
    EXPECT_EQ(e.kind(), tb::error_kind::type);
    EXPECT_NE(std::string(e.what()).find("column \"nested\": the Arrow type struct is not supported"),
              std::string::npos) << e.what();
  }
}
