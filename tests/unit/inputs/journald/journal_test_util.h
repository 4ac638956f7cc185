#pragma once
// Real journal files for tests: entries are written in the Journal Export Format and converted
// by Debian's systemd-journal-remote (no running systemd needed).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace logship::testing {

using JournalEntry = std::vector<std::pair<std::string, std::string>>;

inline constexpr const char* kJournalRemote = "/lib/systemd/systemd-journal-remote";

// Text form when the value has no control bytes, else the binary-safe form (name, newline,
// 8-byte little-endian length, bytes, newline).
inline std::string export_format(const std::vector<JournalEntry>& entries) {
  std::string out;
  for (const auto& e : entries) {
    for (const auto& [name, value] : e) {
      bool binary = false;
      for (unsigned char c : value) binary |= (c < 0x20 && c != '\t') || c == 0x7f;
      if (!binary) {
        out += name + "=" + value + "\n";
        continue;
      }
      out += name + "\n";
      uint64_t n = value.size();
      for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
      out += value + "\n";
    }
    out += "\n";
  }
  return out;
}

// Writes (or appends to) the journal file `path` (must end in .journal). Returns success.
inline bool make_journal(const std::string& path, const std::vector<JournalEntry>& entries) {
  const std::string in = path + ".export";
  {
    std::ofstream f(in, std::ios::binary | std::ios::trunc);
    f << export_format(entries);
  }
  const std::string cmd = std::string(kJournalRemote) + " --output=" + path + " " + in +
                          " >/dev/null 2>&1";
  int rc = std::system(cmd.c_str());
  std::filesystem::remove(in);
  return rc == 0;
}

inline std::string temp_dir(const std::string& prefix) {
  std::string t = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
  char* d = ::mkdtemp(t.data());
  return d == nullptr ? std::string() : std::string(d);
}

// A plain entry: realtime `1700000000000000 + i` µs and MESSAGE "msg <i>".
inline JournalEntry plain_entry(int i, JournalEntry extra = {}) {
  JournalEntry e{{"__REALTIME_TIMESTAMP", std::to_string(1700000000000000LL + i)},
                 {"MESSAGE", "msg " + std::to_string(i)}};
  for (auto& kv : extra) e.push_back(std::move(kv));
  return e;
}

}  // namespace logship::testing
