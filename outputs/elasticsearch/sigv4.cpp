#include "outputs/elasticsearch/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace logship::plugins::es {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string hex(const unsigned char* p, std::size_t n) {
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 15];
  }
  return out;
}

std::string hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n);
  return std::string(reinterpret_cast<char*>(out), n);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() &&
        hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view p = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (p.empty()) continue;
    std::size_t eq = p.find('=');
    std::string_view name = p.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : p.substr(eq + 1);
    params.emplace_back(aws_uri_encode(percent_decode(name), false),
                        aws_uri_encode(percent_decode(value), false));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

// Lowercase name; value trimmed with inner runs of spaces made one.
std::pair<std::string, std::string> canonical_header(std::string_view name, std::string_view value) {
  std::string n(name);
  for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string v;
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      space = !v.empty();
      continue;
    }
    if (space) v.push_back(' ');
    space = false;
    v.push_back(c);
  }
  return {std::move(n), std::move(v)};
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return hex(md, sizeof md);
}

std::string amz_date(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string aws_uri_encode(std::string_view s, bool keep_slash) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(static_cast<char>(std::toupper(kHex[c >> 4])));
      out.push_back(static_cast<char>(std::toupper(kHex[c & 15])));
    }
  }
  return out;
}

SigV4Signature sigv4_sign(const SigV4Request& req, const AwsCredentials& creds,
                          std::string_view region, std::string_view service,
                          std::string_view amz_date) {
  std::string_view path = req.target.substr(0, req.target.find('?'));
  std::string_view query;
  if (std::size_t q = req.target.find('?'); q != std::string_view::npos) query = req.target.substr(q + 1);
  if (path.empty()) path = "/";

  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [n, v] : req.headers) headers.push_back(canonical_header(n, v));
  std::sort(headers.begin(), headers.end());
  std::string canonical_headers, signed_headers;
  for (const auto& [n, v] : headers) {
    canonical_headers += n + ":" + v + "\n";
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers += n;
  }

  SigV4Signature s;
  // Services other than S3 take the path URI-encoded once more than it was sent.
  s.canonical_request = std::string(req.method) + "\n" + aws_uri_encode(path, true) + "\n" +
                        canonical_query(query) + "\n" + canonical_headers + "\n" + signed_headers +
                        "\n" + std::string(req.payload_sha256);
  const std::string date(amz_date.substr(0, 8));
  const std::string scope =
      date + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  s.string_to_sign = "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + scope + "\n" +
                     sha256_hex(s.canonical_request);
  std::string key = hmac("AWS4" + creds.secret_access_key, date);
  key = hmac(key, region);
  key = hmac(key, service);
  key = hmac(key, "aws4_request");
  const std::string mac = hmac(key, s.string_to_sign);
  s.signature = hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
  s.authorization = "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id + "/" + scope +
                    ", SignedHeaders=" + signed_headers + ", Signature=" + s.signature;
  return s;
}

Result<AwsCredentials> parse_aws_credentials_file(std::string_view text, std::string_view profile) {
  AwsCredentials c;
  bool in_profile = false, found = false;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      std::string_view name = line.substr(1, line.size() - 2);
      if (name.starts_with("profile ")) name.remove_prefix(8);
      in_profile = name == profile;
      found = found || in_profile;
      continue;
    }
    if (!in_profile) continue;
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view k = line.substr(0, eq), v = line.substr(eq + 1);
    while (!k.empty() && std::isspace(static_cast<unsigned char>(k.back()))) k.remove_suffix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
    if (k == "aws_access_key_id") c.access_key_id = v;
    if (k == "aws_secret_access_key") c.secret_access_key = v;
    if (k == "aws_session_token") c.session_token = v;
  }
  if (!found) {
    return Status::invalid("no [" + std::string(profile) + "] profile");
  }
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Status::invalid("profile [" + std::string(profile) +
                           "] lacks aws_access_key_id or aws_secret_access_key");
  }
  return c;
}

}  // namespace logship::plugins::es
