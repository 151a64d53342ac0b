// Remote locations and their configuration: URL parsing and encoding, the credentials chain
// (options > environment > AWS shared files) and the retry schedule.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tensorbridge/core/error.hpp"
#include "tensorbridge/io/source.hpp"

namespace tb {

void storage_options::validate() const {
  if (part_size < 1024) fail(error_kind::value, "storage_options: part_size must be at least 1024 bytes, got ", part_size);
  if (concurrency < 1 || concurrency > 256)
    fail(error_kind::value, "storage_options: concurrency must be 1..256, got ", concurrency);
  if (max_retries < 0) fail(error_kind::value, "storage_options: max_retries must be >= 0, got ", max_retries);
  if (!(retry_max_seconds >= 0) || !(retry_base_seconds >= 0) || !(connect_timeout_seconds > 0) ||
      !(low_speed_seconds > 0))
    fail(error_kind::value, "storage_options: the retry and timeout seconds must be positive numbers");
  if (addressing_style != "auto" && addressing_style != "path" && addressing_style != "virtual")
    fail(error_kind::value, "storage_options: addressing_style must be \"auto\", \"path\" or \"virtual\", not \"",
         addressing_style, "\"");
}

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string lookup(const std::vector<std::pair<std::string, std::string>>& pairs, const std::string& key) {
  for (const auto& [k, v] : pairs)
    if (k == key) return v;
  return {};
}

std::string home_file(const char* env_name, const char* leaf) {
  std::string p = env(env_name);
  if (!p.empty()) return p;
  const std::string home = env("HOME");
  return home.empty() ? std::string() : home + "/.aws/" + leaf;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_aws_ini_section(const std::string& text,
                                                                        const std::string& section) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(text);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      inside = trim(line.substr(1, line.size() - 2)) == section;
      continue;
    }
    if (!inside) continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(line.substr(0, eq));
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
    out.emplace_back(key, trim(line.substr(eq + 1)));
  }
  return out;
}

s3_config resolve_s3_config(const storage_options& options) {
  options.validate();
  s3_config c;
  c.anon = options.anon;
  const std::string profile = options.profile ? *options.profile : env("AWS_PROFILE").empty() ? "default" : env("AWS_PROFILE");
  const std::string creds_path = home_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  const std::string config_path = home_file("AWS_CONFIG_FILE", "config");
  const auto creds_file = parse_aws_ini_section(read_text(creds_path), profile);
  const auto config_file =
      parse_aws_ini_section(read_text(config_path), profile == "default" ? "default" : "profile " + profile);
  if (options.profile && creds_file.empty() && config_file.empty())
    fail(error_kind::value, "storage_options: the profile '", profile, "' is in neither ", creds_path, " nor ",
         config_path);

  // Credentials: one source supplies all of key, secret and token.
  if (options.key || options.secret) {
    if (!options.key || !options.secret)
      fail(error_kind::value, "storage_options: key and secret go together; pass both (or neither)");
    c.key = *options.key;
    c.secret = *options.secret;
    c.token = options.token.value_or("");
    c.credentials_source = options.credentials_source;
  } else if (!options.profile && !env("AWS_ACCESS_KEY_ID").empty()) {
    c.key = env("AWS_ACCESS_KEY_ID");
    c.secret = env("AWS_SECRET_ACCESS_KEY");
    c.token = env("AWS_SESSION_TOKEN");
    c.credentials_source = "the environment (AWS_ACCESS_KEY_ID)";
  } else {
    for (const auto* file : {&creds_file, &config_file}) {
      const std::string key = lookup(*file, "aws_access_key_id");
      if (key.empty()) continue;
      c.key = key;
      c.secret = lookup(*file, "aws_secret_access_key");
      c.token = lookup(*file, "aws_session_token");
      c.credentials_source = "profile '" + profile + "' in " + (file == &creds_file ? creds_path : config_path);
      break;
    }
  }
  if (c.anon) c.credentials_source = "none (anon=True)";

  std::string region = options.region.value_or("");
  if (region.empty()) region = env("AWS_REGION");
  if (region.empty()) region = env("AWS_DEFAULT_REGION");
  if (region.empty()) region = lookup(config_file, "region");
  if (!region.empty()) c.region = region;

  std::string endpoint = options.endpoint_url.value_or("");
  if (endpoint.empty()) endpoint = env("AWS_ENDPOINT_URL_S3");
  if (endpoint.empty()) endpoint = env("AWS_ENDPOINT_URL");
  if (endpoint.empty()) endpoint = lookup(config_file, "endpoint_url");
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  if (!endpoint.empty() && endpoint.find("://") == std::string::npos) endpoint = "https://" + endpoint;
  c.endpoint_url = endpoint;
  c.path_style = options.addressing_style == "path" || (options.addressing_style == "auto" && !endpoint.empty());
  return c;
}

bool is_remote_path(const std::string& path) noexcept {
  return path.rfind("s3://", 0) == 0 || path.rfind("https://", 0) == 0 || path.rfind("http://", 0) == 0;
}

remote_url parse_remote_url(const std::string& path) {
  remote_url u;
  const auto sep = path.find("://");
  if (sep == std::string::npos || !is_remote_path(path))
    fail(error_kind::value, path, ": not a remote path (expected s3://bucket/key, https://... or http://...)");
  u.scheme = path.substr(0, sep);
  const std::string rest = path.substr(sep + 3);
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const std::string tail = slash == std::string::npos ? std::string() : rest.substr(slash + 1);
  if (u.scheme == "s3") {
    if (authority.empty())
      fail(error_kind::value, path, ": an s3 path needs a bucket: s3://bucket/key");
    u.bucket = authority;
    u.key = tail;
  } else {
    if (authority.empty()) fail(error_kind::value, path, ": a URL needs a host: https://host/path");
    u.host = authority;
    u.key = "/" + tail;
  }
  return u;
}

std::string s3_uri_encode(const std::string& s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string s3_object_url(const s3_config& config, const std::string& bucket, const std::string& key) {
  std::string endpoint = config.endpoint_url.empty() ? "https://s3." + config.region + ".amazonaws.com"
                                                     : config.endpoint_url;
  const std::string path = s3_uri_encode(key, true);
  if (config.path_style) return endpoint + "/" + bucket + "/" + path;
  const auto sep = endpoint.find("://") + 3;
  return endpoint.substr(0, sep) + bucket + "." + endpoint.substr(sep) + "/" + path;
}

double retry_policy::delay(int retry, double unit) const noexcept {
  const double ceiling = std::min(cap_seconds, base_seconds * std::ldexp(1.0, std::min(retry, 30)));
  return std::clamp(unit, 0.0, 1.0) * ceiling;
}

bool retry_policy::retryable_status(long status) noexcept {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

}  // namespace tb
