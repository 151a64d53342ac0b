// The saved form of an iterator state (the record users keep), and drawn seeds.

#include <array>
#include <charconv>
#include <limits>
#include <random>

#include "tensorbridge/pipeline/dataset.hpp"

namespace tb {
namespace {

// The integer fields of the saved form, after "version" and "fingerprint", in order.
struct int_field {
  const char* key;
  bool is_unsigned;  // the field is a uint64 (the seed); the others are int64
};
constexpr std::array<int_field, 7> int_fields = {{{"seed", true},
                                                  {"epoch", false},
                                                  {"cursor", false},
                                                  {"first_epoch", false},
                                                  {"yielded", false},
                                                  {"num_shards", false},
                                                  {"shard_index", false}}};

std::uint64_t* unsigned_slot(iterator_state& s, std::string_view key) { return key == "seed" ? &s.seed : nullptr; }

std::int64_t* signed_slot(iterator_state& s, std::string_view key) {
  if (key == "epoch") return &s.epoch;
  if (key == "cursor") return &s.cursor;
  if (key == "first_epoch") return &s.first_epoch;
  if (key == "yielded") return &s.yielded;
  if (key == "num_shards") return &s.num_shards;
  return &s.shard_index;
}

const iterator_state::record_value* find(const iterator_state::record& saved, std::string_view key) {
  for (const auto& [k, v] : saved)
    if (k == key) return &v;
  return nullptr;
}

[[noreturn]] void refuse_version(const iterator_state::record_value* version) {
  std::string got = "no 'version'";
  if (version) {
    if (const auto* i = std::get_if<std::int64_t>(version)) got = detail::cat("version ", *i);
    else if (const auto* u = std::get_if<std::uint64_t>(version)) got = detail::cat("version ", *u);
    else got = detail::cat("version \"", std::get<std::string>(*version), "\"");
  }
  fail(error_kind::value, "state must be a dict returned by iterator.state() (version ", iterator_state::record_version,
       "); got ", got);
}

std::uint64_t parse_fingerprint(const iterator_state::record_value& v) {
  const auto* text = std::get_if<std::string>(&v);
  std::uint64_t out = 0;
  if (text && !text->empty() && text->size() <= 16) {
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), out, 16);
    if (ec == std::errc() && end == text->data() + text->size()) return out;
  }
  std::string shown;
  if (text) shown = detail::cat("\"", *text, "\"");
  else if (const auto* i = std::get_if<std::int64_t>(&v)) shown = detail::cat(*i);
  else shown = detail::cat(std::get<std::uint64_t>(v));
  fail(error_kind::value, "the state's 'fingerprint' must be 16 hexadecimal digits, got ", shown);
}

}  // namespace

std::string format_fingerprint(std::uint64_t fingerprint) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, fingerprint >>= 4) out[static_cast<std::size_t>(i)] = digits[fingerprint & 0xf];
  return out;
}

iterator_state::record iterator_state::to_record() const {
  record out;
  out.reserve(2 + int_fields.size());
  out.emplace_back("version", record_version);
  out.emplace_back("fingerprint", format_fingerprint(fingerprint));
  iterator_state copy = *this;
  for (const auto& f : int_fields) {
    if (f.is_unsigned) out.emplace_back(f.key, *unsigned_slot(copy, f.key));
    else out.emplace_back(f.key, *signed_slot(copy, f.key));
  }
  return out;
}

iterator_state iterator_state::from_record(const record& saved) {
  const record_value* version = find(saved, "version");
  const auto* v = version ? std::get_if<std::int64_t>(version) : nullptr;
  const auto* fingerprint = find(saved, "fingerprint");
  if (!v || *v != record_version || !fingerprint) refuse_version(version);
  std::string missing;
  for (const auto& f : int_fields)
    if (!find(saved, f.key)) missing += detail::cat(missing.empty() ? "" : ", ", "'", f.key, "'");
  if (!missing.empty())
    fail(error_kind::value, "state is missing [", missing, "]; pass the dict that iterator.state() returned");
  iterator_state s;
  s.fingerprint = parse_fingerprint(*fingerprint);
  constexpr auto int64_max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  for (const auto& f : int_fields) {
    const record_value& value = *find(saved, f.key);
    if (const auto* text = std::get_if<std::string>(&value))
      fail(error_kind::type, "resume: the state's '", f.key, "' must be an integer, got text \"", *text, "\"");
    const auto* i = std::get_if<std::int64_t>(&value);
    const auto* u = std::get_if<std::uint64_t>(&value);
    if (f.is_unsigned) {
      if (i && *i < 0)
        fail(error_kind::value, "resume: the state's '", f.key, "' must be an integer in [0, 2**64 - 1], got ", *i);
      *unsigned_slot(s, f.key) = i ? static_cast<std::uint64_t>(*i) : *u;
    } else {
      if (u && *u > int64_max)
        fail(error_kind::value, "resume: the state's '", f.key, "' must be an integer in [-2**63, 2**63 - 1], got ", *u);
      *signed_slot(s, f.key) = i ? *i : static_cast<std::int64_t>(*u);
    }
  }
  return s;
}

std::uint64_t draw_seed() {
  std::random_device device;
  const std::uint64_t high = device();
  const std::uint64_t low = device();
  return ((high << 32) | low) >> 1;  // 63 bits: also a valid int64 wherever the seed travels
}

}  // namespace tb
