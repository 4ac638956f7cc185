#pragma once
// A followed file's identity beyond (device, inode): a hash of its first bytes, so a reused
// inode, or a file truncated and rewritten while logship was down, is told from the file a
// checkpoint was taken on. Kept in the checkpoint's Position.text as "fp=<len>:<hash hex>".
#include <cstddef>
#include <cstdint>
#include <string>

namespace logship::tail {

constexpr std::size_t kFingerprintBytes = 256;

uint64_t fnv1a(const char* p, std::size_t n);

// "fp=<len>:<hash hex>" of a file's first `len` bytes (len <= kFingerprintBytes).
std::string fingerprint_text(std::size_t len, uint64_t hash);
bool parse_fingerprint(const std::string& text, std::size_t* len, uint64_t* hash);

// Hash of the first `len` bytes of fd; false if the file is shorter.
bool hash_prefix(int fd, std::size_t len, uint64_t* hash);
// The first `len` bytes of fd; false if the file is shorter.
bool read_prefix(int fd, std::size_t len, std::string* out);

// The offset just after the last '\n' at or before `size`, so tailing starts on a line.
uint64_t line_start_before(int fd, uint64_t size);

}  // namespace logship::tail
