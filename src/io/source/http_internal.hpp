#pragma once
// HTTP(S) requests through libcurl for the remote byte sources: one request function with the
// retry loop, signing (AWS SigV4 via CURLOPT_AWS_SIGV4) and the error messages every remote
// failure shares.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "tensorbridge/io/source.hpp"

namespace tb::detail {

/// One HTTP request.
struct http_request {
  std::string method = "GET";       ///< GET, HEAD, PUT, POST, DELETE
  std::string url;                  ///< full URL, path already percent-encoded
  std::vector<std::string> headers; ///< extra "Name: value" lines
  std::span<const std::byte> body;  ///< request body (PUT/POST)
  /// For a 2xx answer, the body goes straight here (at most `out_capacity` bytes; more is an
  /// error); anything else (and every error body) is kept in `http_response::body`.
  std::byte* out = nullptr;
  std::size_t out_capacity = 0;
};

/// What came back.
struct http_response {
  long status = 0;
  std::string body;                            ///< when not written to `out`
  std::size_t written = 0;                     ///< bytes written to `out`
  std::map<std::string, std::string> headers;  ///< lower-cased names
  /// The value of header `name` (lower case), or "".
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

/// Transfer settings shared by every request of one source.
struct http_settings {
  retry_policy retry;
  double connect_timeout_seconds = 10;
  double low_speed_seconds = 30;
};

/// Performs `request`, signed with `config` unless it is null or anonymous, retrying passing
/// failures (connection errors, timeouts, retryable statuses) as `settings.retry` allows. Returns
/// the last response: a non-2xx status is the caller's to report (see `fail_http`); a connection
/// that fails every attempt is a tb::error (io) naming `where`, the attempts and curl's reason.
/// `expect_bytes` (when non-zero) makes a 2xx body of another length a retryable short read.
http_response http_perform(const http_request& request, const s3_config* config, const http_settings& settings,
                           const std::string& where, std::size_t expect_bytes = 0);

/// Throws the tb::error for a failed response: 403 permission (naming the credentials' source),
/// 404 not_found, anything else io; the message names `where`, `what` was done, the status and
/// S3's error code and message when the body holds them.
[[noreturn]] void fail_http(const http_response& response, const std::string& where, const std::string& what,
                            const s3_config* config);

/// The text of the first <tag>...</tag> in `xml` (entities &amp; &lt; &gt; &quot; &apos; decoded),
/// searching from `from`; `end` receives the position after the closing tag (npos if absent).
std::string xml_value(const std::string& xml, const std::string& tag, std::size_t from = 0,
                      std::size_t* end = nullptr);

/// `http_settings` from the storage options.
http_settings settings_of(const storage_options& options);

}  // namespace tb::detail

namespace tb::detail {

/// Runs `task(i)` for i in [0, count) on up to `concurrency` threads (the caller's included);
/// the first exception stops the remaining tasks and is rethrown once every thread has finished.
void run_parts(std::size_t count, int concurrency, const std::function<void(std::size_t)>& task);

}  // namespace tb::detail
