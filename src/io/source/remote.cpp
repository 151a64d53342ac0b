// Reading remote objects (s3:// and http(s)://): one ranged GET learns size and ETag and keeps the
// first bytes; larger reads go out as parallel ranged GETs straight into the caller's buffer, each
// pinned to the first ETag (If-Match) so parts of two versions are never mixed.
#include <algorithm>
#include <cstring>
#include <vector>

#include "io/source/http_internal.hpp"
#include "io/source/remote_internal.hpp"
#include "tensorbridge/core/error.hpp"

namespace tb::detail {

namespace {

// "bytes 0-65535/123456" -> 123456; npos-like max when absent.
std::uint64_t total_of_content_range(const std::string& value) {
  const auto slash = value.rfind('/');
  if (slash == std::string::npos || value.compare(slash + 1, 1, "*") == 0) return UINT64_MAX;
  return std::strtoull(value.c_str() + slash + 1, nullptr, 10);
}

class remote_source final : public byte_source {
 public:
  remote_source(const std::string& path, const storage_options& options, std::size_t head_bytes)
      : where_(safe_where(path)), settings_(settings_of(options)), options_(options) {
    const remote_url u = parse_remote_url(path);
    if (u.scheme == "s3") {
      config_ = resolve_s3_config(options);
      signed_ = true;
      url_ = s3_object_url(config_, u.bucket, u.key);
      if (u.key.empty()) fail(error_kind::value, path, ": an s3 path needs a key after the bucket: s3://bucket/key");
    } else {
      url_ = path;
    }
    head_.resize(head_bytes);
    http_request r;
    r.url = url_;
    r.headers.push_back("Range: bytes=0-" + std::to_string(head_bytes - 1));
    r.out = head_.data();
    r.out_capacity = head_.size();
    http_response resp = http_perform(r, config(), settings_, where_);
    if (resp.status == 416) {  // an empty object has no byte 0
      size_ = 0;
    } else if (resp.status == 206) {
      size_ = total_of_content_range(resp.header("content-range"));
      if (size_ == UINT64_MAX) fail(error_kind::io, where_, ": the server sent no object size (Content-Range)");
    } else if (resp.status == 200) {
      size_ = resp.written;  // the whole object (it fit), or a server that ignores Range
    } else {
      fail_http(resp, where_, "GET", config());
    }
    head_.resize(resp.status == 416 ? 0 : resp.written);
    if (head_.size() < std::min<std::uint64_t>(size_, head_bytes))
      fail(error_kind::io, where_, ": short read: ", head_.size(), " of the first ",
           std::min<std::uint64_t>(size_, head_bytes), " bytes arrived");
    etag_ = resp.header("etag");
  }

  std::uint64_t size() const override { return size_; }
  const std::string& where() const override { return where_; }
  std::string etag() const override { return etag_; }

  void read_at(void* out, std::size_t n, std::uint64_t offset) override {
    if (offset > size_ || n > size_ - offset)
      fail(error_kind::io, where_, ": a read of ", n, " bytes at byte offset ", offset, " goes past the end (",
           size_, " bytes)");
    auto* dst = static_cast<std::byte*>(out);
    if (offset + n <= head_.size()) {
      if (n != 0) std::memcpy(dst, head_.data() + offset, n);
      return;
    }
    const std::size_t part = options_.part_size;
    const std::size_t parts = (n + part - 1) / part;
    run_parts(parts, options_.concurrency, [&](std::size_t i) {
      const std::uint64_t lo = offset + i * part;
      const std::size_t len = std::min<std::size_t>(part, n - i * part);
      get_range(dst + i * part, len, lo);
    });
  }

 private:
  const s3_config* config() const { return signed_ ? &config_ : nullptr; }

  void get_range(std::byte* dst, std::size_t len, std::uint64_t lo) const {
    http_request r;
    r.url = url_;
    r.headers.push_back("Range: bytes=" + std::to_string(lo) + "-" + std::to_string(lo + len - 1));
    if (!etag_.empty()) r.headers.push_back("If-Match: " + etag_);
    r.out = dst;
    r.out_capacity = len;
    http_response resp = http_perform(r, config(), settings_, where_, len);
    if (resp.status == 412 || (!etag_.empty() && !resp.header("etag").empty() && resp.header("etag") != etag_))
      fail(error_kind::io, where_, ": the object changed while it was read (ETag ", etag_, " became ",
           resp.header("etag").empty() ? std::string("another") : resp.header("etag"),
           "); nothing was returned: read it again");
    if (resp.status / 100 != 2) fail_http(resp, where_, "GET of bytes " + std::to_string(lo) + "-" +
                                                            std::to_string(lo + len - 1), config());
    if (resp.written != len)
      fail(error_kind::io, where_, ": short read at byte offset ", lo, ": ", resp.written, " of ", len,
           " bytes arrived; nothing was returned");
  }

  std::string where_;
  http_settings settings_;
  storage_options options_;
  s3_config config_;
  bool signed_ = false;
  std::string url_;
  std::vector<std::byte> head_;
  std::uint64_t size_ = 0;
  std::string etag_;
};

}  // namespace

std::string safe_where(const std::string& path) {
  const auto q = path.find('?');
  return q == std::string::npos ? path : path.substr(0, q) + "?...";
}

std::unique_ptr<byte_source> open_remote_source(const std::string& path, const storage_options& options,
                                                std::size_t head_bytes) {
  options.validate();
  return std::make_unique<remote_source>(path, options, std::max<std::size_t>(head_bytes, 1));
}

std::vector<object_info> list_remote(const std::string& prefix, const storage_options& options) {
  const remote_url u = parse_remote_url(prefix);
  if (u.scheme != "s3") fail(error_kind::value, safe_where(prefix), ": only s3:// prefixes can be listed");
  const s3_config config = resolve_s3_config(options);
  const http_settings settings = settings_of(options);
  std::vector<object_info> out;
  std::string token;
  for (;;) {
    // Query parameters in sorted order, as SigV4's canonical request has them.
    std::string query = "?";
    if (!token.empty()) query += "continuation-token=" + s3_uri_encode(token, false) + "&";
    query += "list-type=2&prefix=" + s3_uri_encode(u.key, false);
    http_request r;
    r.url = s3_object_url(config, u.bucket, "") + query;
    http_response resp = http_perform(r, &config, settings, prefix);
    if (resp.status / 100 != 2) fail_http(resp, prefix, "listing (ListObjectsV2)", &config);
    std::size_t at = 0, end = 0;
    for (;;) {
      std::string item = xml_value(resp.body, "Contents", at, &end);
      if (end == std::string::npos) break;
      at = end;
      out.push_back({"s3://" + u.bucket + "/" + xml_value(item, "Key"),
                     std::strtoull(xml_value(item, "Size").c_str(), nullptr, 10), xml_value(item, "ETag")});
    }
    if (xml_value(resp.body, "IsTruncated") != "true") break;
    token = xml_value(resp.body, "NextContinuationToken");
    if (token.empty()) fail(error_kind::io, prefix, ": the listing is truncated but has no continuation token");
  }
  std::sort(out.begin(), out.end(), [](const object_info& a, const object_info& b) { return a.path < b.path; });
  return out;
}

}  // namespace tb::detail
