#include "inputs/journald/journald_options.h"

#include <algorithm>
#include <array>

namespace logship::plugins::journald {
namespace {

constexpr std::array<std::string_view, 8> kLevelNames = {"emerg",   "alert",  "crit", "err",
                                                         "warning", "notice", "info", "debug"};

bool parse_level(std::string_view s, int* out) {
  if (s.size() == 1 && s[0] >= '0' && s[0] <= '7') {
    *out = s[0] - '0';
    return true;
  }
  for (std::size_t i = 0; i < kLevelNames.size(); ++i) {
    if (s == kLevelNames[i]) {
      *out = static_cast<int>(i);
      return true;
    }
  }
  return false;
}

// journald accepts field names of uppercase letters, digits and '_', not starting with a digit.
bool valid_field_name(std::string_view n) {
  if (n.empty() || n.size() > 64 || (n[0] >= '0' && n[0] <= '9')) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool valid_match(const std::string& m) {
  std::size_t eq = m.find('=');
  return eq != std::string::npos && valid_field_name(std::string_view(m).substr(0, eq));
}

}  // namespace

bool parse_priority_range(const std::string& s, int* lo, int* hi) {
  std::size_t dots = s.find("..");
  if (dots == std::string::npos) {
    int v = 0;
    if (!parse_level(s, &v)) return false;
    *lo = 0;
    *hi = v;
    return true;
  }
  int a = 0, b = 0;
  if (!parse_level(std::string_view(s).substr(0, dots), &a) ||
      !parse_level(std::string_view(s).substr(dots + 2), &b)) {
    return false;
  }
  *lo = std::min(a, b);
  *hi = std::max(a, b);
  return true;
}

std::string mangle_unit(const std::string& unit) {
  return unit.find('.') == std::string::npos ? unit + ".service" : unit;
}

const config::OptionSchema<JournaldOptions>& JournaldOptions::schema() {
  using O = JournaldOptions;
  static const auto s =
      config::OptionSchema<O>{}
          .add("directory", &O::directory,
               "Read the journal files in this directory instead of the system journal.")
          .add("files", &O::files,
               "Read these journal files instead of the system journal; unreadable or corrupt "
               "files are reported and skipped.")
          .add("read_from", &O::read_from,
               "Where to start when there is no saved cursor.")
          .add("follow", &O::follow,
               "Keep waiting for new entries; false = stop at the end (the input finishes).")
          .add("matches", &O::matches,
               "journalctl-style matches: FIELD=value terms, same field ORed, different fields "
               "ANDed, \"+\" starts an alternative (OR).")
          .add("units", &O::units, "Only these systemd units (_SYSTEMD_UNIT; ORed).")
          .add("identifiers", &O::identifiers, "Only these SYSLOG_IDENTIFIERs (ORed).")
          .add("container_names", &O::container_names,
               "Only these Docker containers (CONTAINER_NAME; ORed).")
          .add("priority", &O::priority,
               "Only entries of this priority or more severe (\"err\", \"4\"), or a range "
               "(\"warning..err\").")
          .add("include_fields", &O::include_fields,
               "Journal fields added to each event under their journal name.")
          .add("all_fields", &O::all_fields,
               "Add every journal field of the entry under its journal name.")
          .add("trusted_fields", &O::trusted_fields,
               "With all_fields: also the trusted fields journald adds (names starting with _).")
          .add("partial_timeout", &O::partial_timeout,
               "Emit the parts of a split Docker line that were not completed within this time.")
          .add("partial_max_size", &O::partial_max_size,
               "A joined Docker line is emitted when it grows past this size.",
               config::at_least(config::ByteSize(1024), "1KiB"))
          .add("batch_events", &O::batch_events, "Most entries per batch.",
               config::in_range(1, 1 << 20))
          .add("batch_bytes", &O::batch_bytes, "Most bytes per batch.",
               config::at_least(config::ByteSize(4096), "4KiB"))
          .add("stream_key", &O::stream_key, "Checkpoint key; default: journald:<input name>.");
  return s;
}

Status JournaldOptions::validate() const {
  if (!directory.empty() && !files.empty()) {
    return Status::invalid("give either directory or files, not both");
  }
  for (const auto& m : matches) {
    if (m != "+" && !valid_match(m)) {
      return Status::invalid(
          "match \"" + m + "\" is not FIELD=value (FIELD: A-Z, 0-9, _) or \"+\"");
    }
  }
  int lo = 0, hi = 0;
  if (!priority.empty() && !parse_priority_range(priority, &lo, &hi)) {
    return Status::invalid(
        "priority \"" + priority + "\" is not a level (emerg..debug, 0..7) or a range a..b");
  }
  for (const auto& f : include_fields) {
    if (!valid_field_name(f)) {
      return Status::invalid("include_fields: \"" + f + "\" is not a journal field name");
    }
  }
  return Status::ok();
}

Result<std::vector<std::string>> build_match_program(const JournaldOptions& o) {
  std::vector<std::string> prog;
  auto group = [&prog](const std::vector<std::string>& terms, std::string_view prefix,
                       auto transform) {
    if (terms.empty()) return;
    for (const auto& t : terms) prog.push_back(std::string(prefix) + transform(t));
    prog.push_back("&&");
  };
  auto same = [](const std::string& s) { return s; };
  if (!o.matches.empty()) {
    for (const auto& m : o.matches) prog.push_back(m);
    prog.push_back("&&");
  }
  group(o.units, "_SYSTEMD_UNIT=", mangle_unit);
  group(o.identifiers, "SYSLOG_IDENTIFIER=", same);
  group(o.container_names, "CONTAINER_NAME=", same);
  if (!o.priority.empty()) {
    int lo = 0, hi = 0;
    if (!parse_priority_range(o.priority, &lo, &hi)) return Status::invalid("bad priority");
    for (int p = lo; p <= hi; ++p) prog.push_back("PRIORITY=" + std::to_string(p));
    prog.push_back("&&");
  }
  return prog;
}

}  // namespace logship::plugins::journald
