// libcurl requests with retries, signing and error messages (see http_internal.hpp).
#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

#include "io/source/http_internal.hpp"
#include "tensorbridge/core/error.hpp"

namespace tb::detail {

namespace {

// One connection cache, DNS cache and TLS session cache for every request of the process, so
// parallel parts and later reads reuse connections whichever thread runs them.
class curl_shared {
 public:
  curl_shared() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    share_ = curl_share_init();
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &curl_shared::lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &curl_shared::unlock);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  }
  CURLSH* get() const noexcept { return share_; }
  static curl_shared& instance() {
    static curl_shared* shared = new curl_shared();  // never destroyed: handles may outlive statics
    return *shared;
  }

 private:
  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
    static_cast<curl_shared*>(self)->locks_[static_cast<std::size_t>(data) % 8].lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* self) {
    static_cast<curl_shared*>(self)->locks_[static_cast<std::size_t>(data) % 8].unlock();
  }
  CURLSH* share_ = nullptr;
  std::array<std::mutex, 8> locks_;
};

struct easy_handle {
  CURL* h = curl_easy_init();
  ~easy_handle() { curl_easy_cleanup(h); }
};

struct headers_list {
  curl_slist* list = nullptr;
  void add(const std::string& line) { list = curl_slist_append(list, line.c_str()); }
  ~headers_list() { curl_slist_free_all(list); }
};

struct transfer {
  CURL* curl = nullptr;
  const http_request* request = nullptr;
  http_response* response = nullptr;
  bool overflow = false;
};

std::size_t on_data(char* data, std::size_t size, std::size_t count, void* user) {
  auto& t = *static_cast<transfer*>(user);
  const std::size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &status);
  if (t.request->out != nullptr && status >= 200 && status < 300) {
    if (t.response->written + n > t.request->out_capacity) {
      t.overflow = true;
      return 0;  // aborts the transfer
    }
    std::memcpy(t.request->out + t.response->written, data, n);
    t.response->written += n;
  } else if (t.response->body.size() < (std::size_t{1} << 20) || t.request->out == nullptr) {
    t.response->body.append(data, n);
  }
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto& t = *static_cast<transfer*>(user);
  const std::size_t n = size * count;
  std::string line(data, n);
  if (line.rfind("HTTP/", 0) == 0) t.response->headers.clear();  // a new response (after 100 Continue)
  const auto colon = line.find(':');
  if (colon == std::string::npos) return n;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string value = line.substr(colon + 1);
  const auto b = value.find_first_not_of(" \t");
  const auto e = value.find_last_not_of(" \t\r\n");
  t.response->headers[name] = b == std::string::npos ? std::string() : value.substr(b, e - b + 1);
  return n;
}

bool retryable_curl(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

double unit_random() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

// One attempt. Returns the curl result; the response is filled as far as it got.
CURLcode attempt(CURL* curl, const http_request& request, const s3_config* config, const http_settings& settings,
                 http_response& response, bool& overflow) {
  curl_easy_reset(curl);
  transfer t{curl, &request, &response};
  headers_list headers;
  for (const auto& h : request.headers) headers.add(h);
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_SHARE, curl_shared::instance().get());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, config == nullptr ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_data);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings.connect_timeout_seconds * 1000));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, std::max(1L, static_cast<long>(settings.low_speed_seconds)));
  curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 512L * 1024);
  // A short wait for "100 Continue" before large bodies (an empty "Expect:" header would remove
  // it, but SigV4 would sign the empty header curl never sends).
  curl_easy_setopt(curl, CURLOPT_EXPECT_100_TIMEOUT_MS, 100L);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    // The body as POSTFIELDS (so SigV4 hashes it) sent with the PUT method.
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.empty() ? "" : reinterpret_cast<const char*>(request.body.data()));
    headers.add("Content-Type: application/octet-stream");
  } else if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.empty() ? "" : reinterpret_cast<const char*>(request.body.data()));
    headers.add("Content-Type: application/xml");
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  std::string sigv4;
  if (config != nullptr && !config->anon && !config->key.empty()) {
    sigv4 = "aws:amz:" + config->region + ":s3";
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(curl, CURLOPT_USERNAME, config->key.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, config->secret.c_str());
    // S3 wants the payload's hash in this header; "UNSIGNED-PAYLOAD" (what the AWS SDKs send for
    // streamed bodies) makes curl sign the header instead of hashing every part.
    headers.add("x-amz-content-sha256: UNSIGNED-PAYLOAD");
    if (!config->token.empty()) headers.add("x-amz-security-token: " + config->token);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  overflow = t.overflow;
  return rc;
}

}  // namespace

http_response http_perform(const http_request& request, const s3_config* config, const http_settings& settings,
                           const std::string& where, std::size_t expect_bytes) {
  (void)curl_shared::instance();  // curl_global_init, once, before any handle exists
  thread_local easy_handle handle;
  if (handle.h == nullptr) fail(error_kind::io, where, ": libcurl could not create a request handle");
  const auto start = std::chrono::steady_clock::now();
  for (int retry = 0;; ++retry) {
    http_response response;
    bool overflow = false;
    const CURLcode rc = attempt(handle.h, request, config, settings, response, overflow);
    std::string problem;  // empty: a final answer
    if (overflow) {
      fail(error_kind::io, where, ": ", request.method, " returned more bytes than the ", request.out_capacity,
           " asked for (HTTP ", response.status, "); the server ignored the Range header");
    } else if (rc != CURLE_OK) {
      if (!retryable_curl(rc))
        fail(error_kind::io, where, ": ", request.method, " failed: ", curl_easy_strerror(rc));
      problem = curl_easy_strerror(rc);
    } else if (retry_policy::retryable_status(response.status)) {
      std::string code = xml_value(response.body, "Code");
      problem = "HTTP " + std::to_string(response.status) + (code.empty() ? "" : " " + code);
    } else if (expect_bytes != 0 && response.status / 100 == 2 && response.written != expect_bytes) {
      problem = "short read: " + std::to_string(response.written) + " of " + std::to_string(expect_bytes) + " bytes";
    }
    if (problem.empty()) return response;
    const double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double wait = settings.retry.delay(retry, unit_random());
    if (retry >= settings.retry.max_retries || spent + wait > settings.retry.max_seconds) {
      if (rc == CURLE_OK && expect_bytes == 0) return response;  // a retryable status, reported by the caller
      if (rc == CURLE_OK && response.status / 100 != 2) return response;
      fail(error_kind::io, where, ": ", request.method, " failed after ", retry + 1, " attempt(s) in ",
           static_cast<int>(spent * 10) / 10.0, " s: ", problem,
           "; check that the server is reachable (retries: storage_options max_retries / retry_max_seconds)");
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
  }
}

std::string xml_value(const std::string& xml, const std::string& tag, std::size_t from, std::size_t* end) {
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  const auto b = xml.find(open, from);
  if (end) *end = std::string::npos;
  if (b == std::string::npos) return {};
  const auto e = xml.find(close, b + open.size());
  if (e == std::string::npos) return {};
  if (end) *end = e + close.size();
  std::string raw = xml.substr(b + open.size(), e - b - open.size()), out;
  static const std::pair<const char*, char> entities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  for (std::size_t i = 0; i < raw.size();) {
    bool replaced = false;
    if (raw[i] == '&' && i + 2 < raw.size() && raw[i + 1] == '#') {  // &#34; &#x22;
      const auto semi = raw.find(';', i);
      if (semi != std::string::npos) {
        const bool hex = raw[i + 2] == 'x' || raw[i + 2] == 'X';
        const long code = std::strtol(raw.c_str() + i + (hex ? 3 : 2), nullptr, hex ? 16 : 10);
        if (code > 0 && code < 128) {
          out += static_cast<char>(code);
          i = semi + 1;
          continue;
        }
      }
    }
    if (raw[i] == '&') {
      for (const auto& [name, c] : entities)
        if (raw.compare(i, std::strlen(name), name) == 0) {
          out += c;
          i += std::strlen(name);
          replaced = true;
          break;
        }
    }
    if (!replaced) out += raw[i++];
  }
  return out;
}

void fail_http(const http_response& response, const std::string& where, const std::string& what,
               const s3_config* config) {
  const std::string code = xml_value(response.body, "Code");
  const std::string message = xml_value(response.body, "Message");
  std::string detail = "HTTP " + std::to_string(response.status);
  if (!code.empty()) detail += " " + code;
  if (!message.empty()) detail += " (" + message + ")";
  if (response.status == 403 || response.status == 401) {
    std::string creds = config == nullptr ? std::string("no credentials (plain HTTP)")
                        : config->anon    ? std::string("anonymous access (anon=True)")
                                          : "credentials from " + config->credentials_source;
    fail(error_kind::permission, where, ": ", what, " was refused: ", detail, "; used ", creds,
         "; check the key and secret (storage_options key/secret, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or the "
         "profile) and the bucket's permissions");
  }
  if (response.status == 404)
    fail(error_kind::not_found, where, ": ", what, " failed: ", detail,
         code == "NoSuchBucket" ? "; the bucket does not exist" : "; no such object");
  fail(error_kind::io, where, ": ", what, " failed: ", detail);
}

void run_parts(std::size_t count, int concurrency, const std::function<void(std::size_t)>& task) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr first;
  std::mutex first_lock;
  auto worker = [&] {
    for (std::size_t i; !stop.load() && (i = next.fetch_add(1)) < count;) {
      try {
        task(i);
      } catch (...) {
        std::lock_guard<std::mutex> hold(first_lock);
        if (!first) first = std::current_exception();
        stop = true;
      }
    }
  };
  const auto threads = static_cast<std::size_t>(std::max(1, concurrency));
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < std::min(threads, count); ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (first) std::rethrow_exception(first);
}

http_settings settings_of(const storage_options& options) {
  http_settings s;
  s.retry.max_retries = options.max_retries;
  s.retry.max_seconds = options.retry_max_seconds;
  s.retry.base_seconds = options.retry_base_seconds;
  s.connect_timeout_seconds = options.connect_timeout_seconds;
  s.low_speed_seconds = options.low_speed_seconds;
  return s;
}

}  // namespace tb::detail
