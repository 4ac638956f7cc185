#include "inputs/tail/fingerprint.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace logship::tail {

uint64_t fnv1a(const char* p, std::size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(p[i]);
    h *= 1099511628211ull;
  }
  return h;
}

std::string fingerprint_text(std::size_t len, uint64_t hash) {
  char b[64];
  int n = std::snprintf(b, sizeof b, "fp=%zu:%016llx", len, static_cast<unsigned long long>(hash));
  return std::string(b, static_cast<std::size_t>(n));
}

bool parse_fingerprint(const std::string& text, std::size_t* len, uint64_t* hash) {
  unsigned long long h = 0;
  std::size_t l = 0;
  if (std::sscanf(text.c_str(), "fp=%zu:%llx", &l, &h) != 2 || l > kFingerprintBytes) return false;
  *len = l;
  *hash = h;
  return true;
}

bool hash_prefix(int fd, std::size_t len, uint64_t* hash) {
  char b[kFingerprintBytes];
  std::size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd, b + got, len - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  *hash = fnv1a(b, len);
  return true;
}

bool read_prefix(int fd, std::size_t len, std::string* out) {
  out->resize(len);
  std::size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd, out->data() + got, len - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

uint64_t line_start_before(int fd, uint64_t size) {
  char b[65536];
  uint64_t end = size;
  while (end > 0) {
    std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(sizeof b, end));
    ssize_t r = ::pread(fd, b, n, static_cast<off_t>(end - n));
    if (r != static_cast<ssize_t>(n)) return size;
    for (std::size_t i = n; i > 0; --i) {
      if (b[i - 1] == '\n') return end - n + i;
    }
    end -= n;
  }
  return 0;
}

}  // namespace logship::tail
