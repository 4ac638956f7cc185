#pragma once
// Writing gzip files for the compressed-generation tests, as gzip and Docker write them.
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace logship::tail::testing {

// `text` as a gzip file at `path` (one member).
inline void write_gz(const std::string& path, const std::string& text, int level = 6) {
  gzFile f = gzopen(path.c_str(), ("wb" + std::to_string(level)).c_str());
  if (f == nullptr) return;
  if (!text.empty()) gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
}

inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// What gzip does to a rotated generation: <plain>.gz written, <plain> removed.
inline void gzip_file(const std::string& plain) {
  write_gz(plain + ".gz", read_all(plain));
  std::filesystem::remove(plain);
}

}  // namespace logship::tail::testing
