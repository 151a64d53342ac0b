// Writing remote objects: one PUT up to the multipart threshold, else a multipart upload whose
// parts go out in parallel batches while the caller writes; an upload not completed is aborted,
// so a failed save leaves nothing visible (and an object already there unchanged).
#include <algorithm>
#include <vector>

#include "io/source/http_internal.hpp"
#include "io/source/remote_internal.hpp"
#include "tensorbridge/core/error.hpp"

namespace tb {

struct object_writer::impl {
  std::string where;
  std::string url;
  storage_options options;
  s3_config config;
  detail::http_settings settings;
  std::vector<std::byte> buffer;
  std::string upload_id;
  std::vector<std::string> part_etags;
  std::uint64_t total = 0;
  bool done = false;

  void start_upload() {
    detail::http_request r;
    r.method = "POST";
    r.url = url + "?uploads=";
    auto resp = detail::http_perform(r, &config, settings, where);
    if (resp.status / 100 != 2) detail::fail_http(resp, where, "starting a multipart upload", &config);
    upload_id = detail::xml_value(resp.body, "UploadId");
    if (upload_id.empty()) fail(error_kind::io, where, ": the server started a multipart upload without an UploadId");
  }

  // Sends buffer[0, n) as parts of part_size (the last may be shorter) and drops them from the buffer.
  void send_parts(std::size_t n) {
    const std::size_t part = options.part_size;
    const std::size_t count = (n + part - 1) / part;
    const std::size_t first = part_etags.size();
    part_etags.resize(first + count);
    detail::run_parts(count, options.concurrency, [&](std::size_t i) {
      const std::size_t lo = i * part, len = std::min(part, n - lo);
      detail::http_request r;
      r.method = "PUT";
      r.url = url + "?partNumber=" + std::to_string(first + i + 1) + "&uploadId=" + s3_uri_encode(upload_id, false);
      r.body = {buffer.data() + lo, len};
      auto resp = detail::http_perform(r, &config, settings, where);
      if (resp.status / 100 != 2)
        detail::fail_http(resp, where, "uploading part " + std::to_string(first + i + 1), &config);
      part_etags[first + i] = resp.header("etag");
    });
    buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
  }

  void abort() noexcept {
    if (upload_id.empty()) return;
    try {
      detail::http_request r;
      r.method = "DELETE";
      r.url = url + "?uploadId=" + s3_uri_encode(upload_id, false);
      auto quick = settings;
      quick.retry.max_retries = std::min(quick.retry.max_retries, 2);
      (void)detail::http_perform(r, &config, quick, where);
    } catch (...) {
      // The server is gone: the unfinished upload stays invisible (S3 lifecycle rules remove it).
    }
    upload_id.clear();
  }
};

object_writer::object_writer(const std::string& path, const storage_options& options) : impl_(std::make_unique<impl>()) {
  options.validate();
  const remote_url u = parse_remote_url(path);
  if (u.scheme != "s3") fail(error_kind::value, detail::safe_where(path), ": only s3:// objects can be written");
  if (u.key.empty() || u.key.back() == '/')
    fail(error_kind::value, path, ": an s3 path to write needs an object key: s3://bucket/key");
  if (options.part_size < (std::size_t{5} << 20))
    fail(error_kind::value, path, ": S3 needs upload parts of at least 5 MiB; part_size is ", options.part_size);
  impl_->where = path;
  impl_->options = options;
  impl_->config = resolve_s3_config(options);
  impl_->settings = detail::settings_of(options);
  impl_->url = s3_object_url(impl_->config, u.bucket, u.key);
}

object_writer::~object_writer() {
  if (!impl_->done) impl_->abort();
}

void object_writer::write(std::span<const std::byte> bytes) {
  auto& m = *impl_;
  if (m.done) fail(error_kind::value, m.where, ": the object was already committed");
  m.buffer.insert(m.buffer.end(), bytes.begin(), bytes.end());
  m.total += bytes.size();
  if (m.upload_id.empty() && m.total <= m.options.multipart_threshold) return;
  const std::size_t batch = m.options.part_size * static_cast<std::size_t>(m.options.concurrency);
  if (m.buffer.size() < batch) return;
  if (m.upload_id.empty()) m.start_upload();
  m.send_parts(m.buffer.size() / m.options.part_size * m.options.part_size);
}

void object_writer::commit() {
  auto& m = *impl_;
  if (m.done) fail(error_kind::value, m.where, ": the object was already committed");
  if (m.upload_id.empty() && m.total <= m.options.multipart_threshold) {
    detail::http_request r;
    r.method = "PUT";
    r.url = m.url;
    r.body = m.buffer;
    auto resp = detail::http_perform(r, &m.config, m.settings, m.where);
    if (resp.status / 100 != 2) detail::fail_http(resp, m.where, "PUT", &m.config);
  } else {
    if (m.upload_id.empty()) m.start_upload();
    if (!m.buffer.empty() || m.part_etags.empty()) m.send_parts(m.buffer.size());
    std::string xml = "<CompleteMultipartUpload>";
    for (std::size_t i = 0; i < m.part_etags.size(); ++i)
      xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + m.part_etags[i] + "</ETag></Part>";
    xml += "</CompleteMultipartUpload>";
    detail::http_request r;
    r.method = "POST";
    r.url = m.url + "?uploadId=" + s3_uri_encode(m.upload_id, false);
    r.body = std::as_bytes(std::span<const char>(xml.data(), xml.size()));
    auto resp = detail::http_perform(r, &m.config, m.settings, m.where);
    // S3 may answer 200 with an <Error> body when completing fails late.
    if (resp.status / 100 != 2 || resp.body.find("<Error>") != std::string::npos) {
      if (resp.status / 100 == 2) resp.status = 500;
      detail::fail_http(resp, m.where, "completing the multipart upload", &m.config);
    }
    m.upload_id.clear();
  }
  m.buffer.clear();
  m.buffer.shrink_to_fit();
  m.done = true;
}

}  // namespace tb
