// Byte sources without an S3 server: URL parsing and encoding, the credentials chain, retry
// delays, local and memory sources, and http:// sources against a small loopback HTTP server in
// this file that serves byte ranges and misbehaves on request (503s, a changed ETag, short bodies).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tensorbridge/core/error.hpp"
#include "tensorbridge/io/source.hpp"

namespace {

using tb::error_kind;

template <class F>
error_kind kind_of(F&& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const tb::error& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  ADD_FAILURE() << "no tb::error thrown";
  return error_kind::type;
}

// Sets environment variables for one test and restores them after.
class scoped_env {
 public:
  void set(const char* name, const char* value) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    if (value) ::setenv(name, value, 1); else ::unsetenv(name);
  }
  ~scoped_env() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) ::setenv(it->first.c_str(), it->second->c_str(), 1); else ::unsetenv(it->first.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

void clear_aws_env(scoped_env& env) {
  for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
                           "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_PROFILE"})
    env.set(name, nullptr);
  env.set("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
  env.set("AWS_CONFIG_FILE", "/nonexistent/config");
}

TEST(Source, ParsesRemoteUrls) {
  auto u = tb::parse_remote_url("s3://bucket/a/b c.npy");
  EXPECT_EQ(u.scheme, "s3");
  EXPECT_EQ(u.bucket, "bucket");
  EXPECT_EQ(u.key, "a/b c.npy");
  auto h = tb::parse_remote_url("https://example.com:8443/x/y.npy?v=1");
  EXPECT_EQ(h.host, "example.com:8443");
  EXPECT_EQ(h.key, "/x/y.npy?v=1");
  EXPECT_TRUE(tb::is_remote_path("http://h/x"));
  EXPECT_FALSE(tb::is_remote_path("/tmp/s3://x"));
  EXPECT_FALSE(tb::is_remote_path("file.npy"));
  EXPECT_EQ(kind_of([] { tb::parse_remote_url("s3:///key"); }), error_kind::value);
  EXPECT_EQ(kind_of([] { tb::parse_remote_url("/local/path"); }), error_kind::value);
}

TEST(Source, EncodesKeysAsS3Signs) {
  EXPECT_EQ(tb::s3_uri_encode("a b/é+~._-", true), "a%20b/%C3%A9%2B~._-");
  EXPECT_EQ(tb::s3_uri_encode("a/b", false), "a%2Fb");
}

TEST(Source, BuildsPathStyleAndVirtualHostedUrls) {
  tb::s3_config c;
  c.region = "eu-west-1";
  EXPECT_EQ(tb::s3_object_url(c, "bkt", "d/x y.npy"), "https://bkt.s3.eu-west-1.amazonaws.com/d/x%20y.npy");
  c.path_style = true;
  c.endpoint_url = "http://127.0.0.1:8333";
  EXPECT_EQ(tb::s3_object_url(c, "bkt", "k"), "http://127.0.0.1:8333/bkt/k");
}

TEST(Source, ParsesAwsIniSections) {
  const std::string text =
      "# comment\n[default]\naws_access_key_id = AK1\n\n[profile dev]\nAWS_Secret_Access_Key=S2 \n"
      "region = eu-central-1\n[other]\nx=y\n";
  auto d = tb::parse_aws_ini_section(text, "default");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].first, "aws_access_key_id");
  EXPECT_EQ(d[0].second, "AK1");
  auto dev = tb::parse_aws_ini_section(text, "profile dev");
  ASSERT_EQ(dev.size(), 2u);
  EXPECT_EQ(dev[0].first, "aws_secret_access_key");
  EXPECT_EQ(dev[0].second, "S2");
  EXPECT_TRUE(tb::parse_aws_ini_section(text, "missing").empty());
}

TEST(Source, ResolvesCredentialsInOrder) {
  scoped_env env;
  clear_aws_env(env);
  const std::string dir = ::testing::TempDir();
  const std::string creds = dir + "/tb_creds", config = dir + "/tb_config";
  std::ofstream(creds) << "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = FILESECRET\n"
                          "[dev]\naws_access_key_id = DEVKEY\naws_secret_access_key = DEVSECRET\n";
  std::ofstream(config) << "[profile dev]\nregion = ap-south-1\nendpoint_url = http://127.0.0.1:9/\n";
  env.set("AWS_SHARED_CREDENTIALS_FILE", creds.c_str());
  env.set("AWS_CONFIG_FILE", config.c_str());

  auto c = tb::resolve_s3_config({});
  EXPECT_EQ(c.key, "FILEKEY");
  EXPECT_NE(c.credentials_source.find("profile 'default'"), std::string::npos);
  EXPECT_EQ(c.region, "us-east-1");
  EXPECT_FALSE(c.path_style);

  env.set("AWS_ACCESS_KEY_ID", "ENVKEY");
  env.set("AWS_SECRET_ACCESS_KEY", "ENVSECRET");
  env.set("AWS_REGION", "us-west-2");
  c = tb::resolve_s3_config({});
  EXPECT_EQ(c.key, "ENVKEY");
  EXPECT_EQ(c.region, "us-west-2");
  EXPECT_NE(c.credentials_source.find("environment"), std::string::npos);

  tb::storage_options o;
  o.key = "OPTKEY";
  o.secret = "OPTSECRET";
  c = tb::resolve_s3_config(o);
  EXPECT_EQ(c.key, "OPTKEY");
  EXPECT_EQ(c.credentials_source, "storage_options");

  tb::storage_options p;
  p.profile = "dev";
  env.set("AWS_REGION", nullptr);
  c = tb::resolve_s3_config(p);  // an explicit profile wins over the environment's keys
  EXPECT_EQ(c.key, "DEVKEY");
  EXPECT_EQ(c.secret, "DEVSECRET");
  EXPECT_EQ(c.region, "ap-south-1");
  EXPECT_EQ(c.endpoint_url, "http://127.0.0.1:9");
  EXPECT_TRUE(c.path_style);

  p.profile = "nope";
  EXPECT_EQ(kind_of([&] { tb::resolve_s3_config(p); }), error_kind::value);
  tb::storage_options half;
  half.key = "K";
  EXPECT_EQ(kind_of([&] { tb::resolve_s3_config(half); }), error_kind::value);
}

TEST(Source, AnonymousNeedsNoCredentials) {
  scoped_env env;
  clear_aws_env(env);
  tb::storage_options o;
  o.anon = true;
  auto c = tb::resolve_s3_config(o);
  EXPECT_TRUE(c.anon);
  EXPECT_EQ(c.credentials_source, "none (anon=True)");
}

TEST(Source, RetryDelaysGrowWithFullJitterAndCap) {
  tb::retry_policy p;
  p.base_seconds = 0.1;
  p.cap_seconds = 1;
  EXPECT_DOUBLE_EQ(p.delay(0, 1.0), 0.1);
  EXPECT_DOUBLE_EQ(p.delay(2, 1.0), 0.4);
  EXPECT_DOUBLE_EQ(p.delay(10, 1.0), 1.0);
  EXPECT_DOUBLE_EQ(p.delay(3, 0.5), 0.4);
  EXPECT_DOUBLE_EQ(p.delay(3, 0.0), 0.0);
  for (long s : {429L, 500L, 502L, 503L, 504L}) EXPECT_TRUE(tb::retry_policy::retryable_status(s)) << s;
  for (long s : {200L, 206L, 403L, 404L, 412L}) EXPECT_FALSE(tb::retry_policy::retryable_status(s)) << s;
}

TEST(Source, ValidatesOptions) {
  tb::storage_options o;
  o.concurrency = 0;
  EXPECT_EQ(kind_of([&] { o.validate(); }), error_kind::value);
  o = {};
  o.addressing_style = "sideways";
  EXPECT_EQ(kind_of([&] { o.validate(); }), error_kind::value);
}

TEST(Source, MemoryAndFileSourcesReadRanges) {
  std::vector<std::byte> bytes(1000);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::byte>(i % 251);
  auto m = tb::memory_source(bytes, "<mem>");
  EXPECT_EQ(m->size(), 1000u);
  std::byte out[10];
  m->read_at(out, 10, 500);
  EXPECT_EQ(std::memcmp(out, bytes.data() + 500, 10), 0);
  EXPECT_EQ(kind_of([&] { m->read_at(out, 10, 995); }), error_kind::io);

  const std::string path = ::testing::TempDir() + "/tb_source.bin";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), 1000);
  auto f = tb::open_source(path);
  EXPECT_EQ(f->size(), 1000u);
  f->read_at(out, 10, 990);
  EXPECT_EQ(std::memcmp(out, bytes.data() + 990, 10), 0);
  EXPECT_EQ(kind_of([&] { f->read_at(out, 10, 991); }), error_kind::io);
  EXPECT_EQ(kind_of([] { tb::open_source("/nonexistent/x.npy"); }), error_kind::not_found);
}

// A one-thread HTTP/1.1 server on loopback: every connection gets one answer and is closed.
class range_server {
 public:
  explicit range_server(std::vector<char> body) : body_(std::move(body)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t n = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &n);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 64);
    thread_ = std::thread([this] { serve(); });
  }
  ~range_server() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/data.bin"; }
  std::atomic<int> requests{0};
  std::atomic<int> fail_first{0};        // answer the first N requests with 503
  std::atomic<int> change_etag_after{-1};  // from request N on, another ETag
  std::atomic<int> short_from{-1};       // from request N on, half the body

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t got = ::recv(c, buf, sizeof buf, 0);
        if (got <= 0) break;
        req.append(buf, static_cast<std::size_t>(got));
      }
      const int n = requests++;
      std::string head;
      std::string payload;
      if (n < fail_first) {
        payload = "<Error><Code>SlowDown</Code></Error>";
        head = "HTTP/1.1 503 Service Unavailable\r\n";
      } else {
        std::size_t lo = 0, hi = body_.size() - 1;
        const auto r = req.find("Range: bytes=");
        if (r != std::string::npos) std::sscanf(req.c_str() + r + 13, "%zu-%zu", &lo, &hi);
        hi = std::min(hi, body_.size() - 1);
        const bool changed = change_etag_after >= 0 && n >= change_etag_after;
        if (changed && req.find("If-Match: \"v1\"") != std::string::npos) {
          head = "HTTP/1.1 412 Precondition Failed\r\n";
        } else {
          payload.assign(body_.data() + lo, hi - lo + 1);
          head = "HTTP/1.1 206 Partial Content\r\nETag: " + std::string(changed ? "\"v2\"" : "\"v1\"") +
                 "\r\nContent-Range: bytes " + std::to_string(lo) + "-" + std::to_string(hi) + "/" +
                 std::to_string(body_.size()) + "\r\n";
          if (short_from >= 0 && n >= short_from) {  // announce the full length, send half, close
            head += "Content-Length: " + std::to_string(payload.size()) + "\r\nConnection: close\r\n\r\n";
            payload.resize(payload.size() / 2);
            send_all(c, head + payload);
            ::close(c);
            continue;
          }
        }
      }
      head += "Content-Length: " + std::to_string(payload.size()) + "\r\nConnection: close\r\n\r\n";
      send_all(c, head + payload);
      ::close(c);
    }
  }
  static void send_all(int c, const std::string& s) {
    for (std::size_t at = 0; at < s.size();) {
      ssize_t put = ::send(c, s.data() + at, s.size() - at, MSG_NOSIGNAL);
      if (put <= 0) return;
      at += static_cast<std::size_t>(put);
    }
  }
  std::vector<char> body_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::vector<char> pattern(std::size_t n) {
  std::vector<char> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<char>((i * 7919) % 253);
  return v;
}

tb::storage_options fast_options() {
  tb::storage_options o;
  o.part_size = 16 << 10;
  o.concurrency = 4;
  o.retry_base_seconds = 0.001;
  o.max_retries = 3;
  return o;
}

TEST(HttpSource, ReadsInParallelRangedParts) {
  const auto body = pattern(300'000);
  range_server server(body);
  auto s = tb::open_source(server.url(), fast_options());
  EXPECT_EQ(s->size(), body.size());
  EXPECT_EQ(s->etag(), "\"v1\"");
  std::vector<char> out(body.size());
  s->read_at(out.data(), out.size(), 0);
  EXPECT_EQ(out, body);
  EXPECT_GE(server.requests.load(), 1 + 300'000 / (16 << 10));  // the first GET, then the parts
  std::vector<char> mid(1000);
  s->read_at(mid.data(), mid.size(), 123'456);
  EXPECT_EQ(std::memcmp(mid.data(), body.data() + 123'456, 1000), 0);
}

TEST(HttpSource, RetriesSlowDown) {
  const auto body = pattern(50'000);
  range_server server(body);
  server.fail_first = 2;
  auto s = tb::open_source(server.url(), fast_options());
  std::vector<char> out(body.size());
  s->read_at(out.data(), out.size(), 0);
  EXPECT_EQ(out, body);

  range_server always(body);
  always.fail_first = 1000;
  std::string message;
  EXPECT_EQ(kind_of([&] { tb::open_source(always.url(), fast_options()); }, &message), error_kind::io);
  EXPECT_NE(message.find("503"), std::string::npos) << message;
  EXPECT_NE(message.find("SlowDown"), std::string::npos) << message;
  EXPECT_NE(message.find(always.url()), std::string::npos) << message;
  EXPECT_EQ(always.requests.load(), 4);  // one attempt and three retries
}

TEST(HttpSource, ObjectChangedBetweenPartsIsAnError) {
  const auto body = pattern(200'000);
  range_server server(body);
  server.change_etag_after = 3;
  auto s = tb::open_source(server.url(), fast_options());
  std::vector<char> out(body.size());
  std::string message;
  EXPECT_EQ(kind_of([&] { s->read_at(out.data(), out.size(), 0); }, &message), error_kind::io);
  EXPECT_NE(message.find("changed while it was read"), std::string::npos) << message;
}

TEST(HttpSource, ShortBodiesAreRetriedThenAnError) {
  const auto body = pattern(200'000);
  range_server server(body);
  server.short_from = 1;
  auto s = tb::open_source(server.url(), fast_options());
  std::vector<char> out(body.size());
  std::string message;
  EXPECT_EQ(kind_of([&] { s->read_at(out.data(), out.size(), 0); }, &message), error_kind::io);
  EXPECT_NE(message.find("attempt"), std::string::npos) << message;
}

TEST(HttpSource, UnreachableServerIsAnError) {
  auto o = fast_options();
  o.max_retries = 1;
  std::string message;
  // Port 1 on loopback: nobody listens there (connection refused, retried, then reported).
  EXPECT_EQ(kind_of([&] { tb::open_source("http://127.0.0.1:1/x", o); }, &message), error_kind::io);
  EXPECT_NE(message.find("http://127.0.0.1:1/x"), std::string::npos) << message;
}

TEST(HttpSource, CacheDirKeepsObjectsCheckedByEtag) {
  namespace fs = std::filesystem;
  const auto body = pattern(300'000);
  const fs::path cache = fs::temp_directory_path() / ("tb_source_cache_" + std::to_string(::getpid()));
  fs::remove_all(cache);
  auto o = fast_options();
  o.max_retries = 0;
  o.cache_dir = cache.string();
  std::vector<char> out(body.size());
  std::string url;
  {
    range_server server(body);
    url = server.url();
    auto first = tb::open_source(url, o);  // a one-byte check, then the parts into the cache
    first->read_at(out.data(), out.size(), 0);
    EXPECT_EQ(out, body);
    EXPECT_EQ(first->where(), url);
    EXPECT_GE(first->fd(), 0);  // a local file now
    const int fetched = server.requests.load();
    EXPECT_GE(fetched, 1 + 300'000 / (16 << 10));
    auto again = tb::open_source(url, o);
    EXPECT_EQ(server.requests.load(), fetched + 1);  // the check only
    EXPECT_EQ(again->etag(), "\"v1\"");
    // A new version (ETag "v2") is fetched again, and replaces the old file.
    server.change_etag_after = server.requests.load();
    auto changed = tb::open_source(url, o);
    EXPECT_EQ(changed->etag(), "\"v2\"");
    EXPECT_GE(server.requests.load(), fetched + 2 + 300'000 / (16 << 10));
    std::fill(out.begin(), out.end(), 0);
    changed->read_at(out.data(), out.size(), 0);
    EXPECT_EQ(out, body);
    int files = 0;
    for (const auto& e : fs::directory_iterator(cache)) files += e.path().extension() == ".bin";
    EXPECT_EQ(files, 1);
  }
  // The server gone: the cached copy is read; without the cache, an error.
  auto offline = tb::open_source(url, o);
  EXPECT_EQ(offline->etag(), "\"v2\"");
  std::fill(out.begin(), out.end(), 0);
  offline->read_at(out.data(), out.size(), 0);
  EXPECT_EQ(out, body);
  o.cache_dir.clear();
  EXPECT_EQ(kind_of([&] { tb::open_source(url, o); }), error_kind::io);
  fs::remove_all(cache);
}

}  // namespace
