#include "inputs/journald/entry_mapper.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace logship::plugins::journald {
namespace {

enum class Known : uint8_t {
  kOther,
  kMessage,
  kPriority,
  kSourceRealtime,
  kIdentifier,
  kUnit,
  kPid,
  kHostname,
  kBootId,
  kContainerId,
  kContainerIdFull,
  kContainerName,
  kImage,
  kContainerTag,
  kPartial,
};

Known classify(std::string_view n) {
  switch (n.size()) {
    case 4:
      if (n == "_PID") return Known::kPid;
      break;
    case 7:
      if (n == "MESSAGE") return Known::kMessage;
      break;
    case 8:
      if (n == "PRIORITY") return Known::kPriority;
      if (n == "_BOOT_ID") return Known::kBootId;
      break;
    case 9:
      if (n == "_HOSTNAME") return Known::kHostname;
      break;
    case 10:
      if (n == "IMAGE_NAME") return Known::kImage;
      break;
    case 12:
      if (n == "CONTAINER_ID") return Known::kContainerId;
      break;
    case 13:
      if (n == "_SYSTEMD_UNIT") return Known::kUnit;
      if (n == "CONTAINER_TAG") return Known::kContainerTag;
      break;
    case 14:
      if (n == "CONTAINER_NAME") return Known::kContainerName;
      break;
    case 17:
      if (n == "SYSLOG_IDENTIFIER") return Known::kIdentifier;
      if (n == "CONTAINER_ID_FULL") return Known::kContainerIdFull;
      break;
    case 25:
      if (n == "CONTAINER_PARTIAL_MESSAGE") return Known::kPartial;
      break;
    case 26:
      if (n == "_SOURCE_REALTIME_TIMESTAMP") return Known::kSourceRealtime;
      break;
    default:
      break;
  }
  return Known::kOther;
}

constexpr std::string_view kSeverity[] = {"emerg",   "alert",  "crit", "err",
                                          "warning", "notice", "info", "debug"};

// A deterministic event offset (the core derives event ids from it): the entry's time mixed with
// its message, so entries of the same microsecond still differ.
uint64_t entry_offset(uint64_t realtime_us, std::string_view message) {
  uint64_t h = 1469598103934665603ull ^ realtime_us;
  for (unsigned char c : message) h = (h ^ c) * 1099511628211ull;
  return h;
}

// The values of the mapped fields of one entry, viewing the batch arena.
struct Mapped {
  std::string_view message, priority, identifier, unit, pid, hostname, boot_id;
  std::string_view container_id, container_id_full, container_name, image, container_tag;
  uint64_t source_realtime_us = 0;
  bool has_message = false;
  bool partial = false;
};

Stream docker_stream(std::string_view priority, bool is_container) {
  if (!is_container) return Stream::kNone;
  if (priority == "6") return Stream::kStdout;
  if (priority == "3") return Stream::kStderr;
  return Stream::kNone;
}

void add_string(Event& e, std::string_view key, std::string_view v) {
  if (!v.empty()) e.fields.push_back(Field{key, Value::string(v)});
}

void add_mapped_fields(Event& e, std::string_view priority, std::string_view identifier,
                       std::string_view unit, std::string_view pid, std::string_view hostname,
                       std::string_view boot_id, std::string_view container_id,
                       std::string_view container_name, std::string_view image,
                       std::string_view container_tag) {
  if (!priority.empty()) {
    std::string_view name;
    if (priority.size() == 1 && priority[0] >= '0' && priority[0] <= '7') {
      name = kSeverity[priority[0] - '0'];
    }
    e.fields.push_back(Field{"severity", Value::string(name.empty() ? priority : name)});
  }
  add_string(e, "syslog_identifier", identifier);
  add_string(e, "unit", unit);
  if (!pid.empty()) {
    int64_t v = 0;
    auto r = std::from_chars(pid.data(), pid.data() + pid.size(), v);
    e.fields.push_back(Field{"pid", r.ec == std::errc() && r.ptr == pid.data() + pid.size()
                                        ? Value::integer(v)
                                        : Value::string(pid)});
  }
  add_string(e, "hostname", hostname);
  add_string(e, "boot_id", boot_id);
  add_string(e, "container_id", container_id);
  add_string(e, "container_name", container_name);
  add_string(e, "image", image);
  add_string(e, "container_tag", container_tag);
}

}  // namespace

std::string_view severity_name(int p) {
  return p >= 0 && p <= 7 ? kSeverity[p] : std::string_view();
}

bool EntryMapper::map(EntrySource& src, Batch& b, TimePoint now) {
  Mapped m;
  extras_.clear();
  src.restart_data();
  std::string_view item;
  while (src.next_data(&item)) {
    const char* eq = static_cast<const char*>(std::memchr(item.data(), '=', item.size()));
    if (eq == nullptr) continue;
    const std::string_view name(item.data(), static_cast<std::size_t>(eq - item.data()));
    const std::string_view value = item.substr(name.size() + 1);
    switch (classify(name)) {
      case Known::kMessage:
        m.message = b.copy(value);
        m.has_message = true;
        break;
      case Known::kPriority: m.priority = b.copy(value); break;
      case Known::kSourceRealtime: {
        uint64_t v = 0;
        auto r = std::from_chars(value.data(), value.data() + value.size(), v);
        if (r.ec == std::errc() && r.ptr == value.data() + value.size()) m.source_realtime_us = v;
        break;
      }
      case Known::kIdentifier: m.identifier = b.copy(value); break;
      case Known::kUnit: m.unit = b.copy(value); break;
      case Known::kPid: m.pid = b.copy(value); break;
      case Known::kHostname: m.hostname = b.copy(value); break;
      case Known::kBootId: m.boot_id = b.copy(value); break;
      case Known::kContainerId: m.container_id = b.copy(value); break;
      case Known::kContainerIdFull: m.container_id_full = b.copy(value); break;
      case Known::kContainerName: m.container_name = b.copy(value); break;
      case Known::kImage: m.image = b.copy(value); break;
      case Known::kContainerTag: m.container_tag = b.copy(value); break;
      case Known::kPartial:
        m.partial = value == "true";
        [[fallthrough]];
      case Known::kOther: {
        bool keep = o_.all_fields && (o_.trusted_fields || name[0] != '_');
        if (!keep && !o_.include_fields.empty()) {
          keep = std::find(o_.include_fields.begin(), o_.include_fields.end(), name) !=
                 o_.include_fields.end();
        }
        if (keep) extras_.push_back(Field{b.copy(name), Value::string(b.copy(value))});
        break;
      }
    }
  }
  const std::string_view cid = m.container_id_full.empty() ? m.container_id : m.container_id_full;
  const bool is_container = !cid.empty();
  const uint64_t realtime = src.realtime_usec();
  const uint64_t time_us = m.source_realtime_us != 0 ? m.source_realtime_us : realtime;

  // Parts of one line follow each other within a container's stream; PRIORITY tells the
  // streams apart (6 stdout, 3 stderr).
  Held* held = nullptr;
  if (m.partial || !held_.empty()) {
    key_.assign(cid);
    key_.push_back('\0');
    key_.append(m.priority);
    for (Held& h : held_) {
      if (h.key == key_) {
        held = &h;
        break;
      }
    }
  }
  std::string_view message = m.message;
  int64_t time_ns = static_cast<int64_t>(time_us) * 1000;
  if (m.partial) {
    if (held == nullptr) {
      if (held_.size() >= o_.max_held_lines) {
        // Too many unfinished lines at once: give up on the oldest rather than grow.
        emit_held(b, held_.front());
        held_.erase(held_.begin());
        ++timed_out_;
      }
      Held& h = held_.emplace_back();
      h.key = key_;
      h.cursor = src.cursor();
      h.time_ns = time_ns;
      h.since = now;
      h.stream = docker_stream(m.priority, is_container);
      h.priority = m.priority;
      h.identifier = m.identifier;
      h.container_id = cid;
      h.container_name = m.container_name;
      h.image = m.image;
      h.container_tag = m.container_tag;
      held = &h;
    }
    if (held->data.size() + message.size() < o_.partial_max_size) {
      held->data.append(message);
      return false;
    }
    // Past the cap: this part closes the line, like a last part would.
  }
  if (held != nullptr) {
    char* p = b.allocate(held->data.size() + message.size());
    std::memcpy(p, held->data.data(), held->data.size());
    if (!message.empty()) std::memcpy(p + held->data.size(), message.data(), message.size());
    message = std::string_view(p, held->data.size() + message.size());
    time_ns = held->time_ns;   // a split line carries the time of its first part, as json-file
    held_.erase(held_.begin() + (held - held_.data()));
    ++merged_;
  }
  Event& e = b.add_event();
  e.time_ns = time_ns;
  e.offset = entry_offset(realtime, message);
  e.stream = docker_stream(m.priority, is_container);
  e.message = message;
  e.fields.reserve(10 + extras_.size());
  add_mapped_fields(e, m.priority, m.identifier, m.unit, m.pid, m.hostname, m.boot_id, cid,
                    m.container_name, m.image, m.container_tag);
  for (const Field& f : extras_) e.fields.push_back(f);
  return true;
}

void EntryMapper::emit_held(Batch& b, Held& h) {
  Event& e = b.add_event();
  e.time_ns = h.time_ns;
  e.message = b.copy(h.data);
  e.offset = entry_offset(static_cast<uint64_t>(h.time_ns / 1000), e.message);
  e.stream = h.stream;
  add_mapped_fields(e, b.copy(h.priority), b.copy(h.identifier), {}, {}, {}, {},
                    b.copy(h.container_id), b.copy(h.container_name), b.copy(h.image),
                    b.copy(h.container_tag));
}

std::size_t EntryMapper::flush_expired(Batch& b, TimePoint now, bool force) {
  std::size_t n = 0;
  while (!held_.empty() && (force || now - held_.front().since >= o_.partial_timeout)) {
    emit_held(b, held_.front());
    held_.erase(held_.begin());
    ++timed_out_;
    ++n;
  }
  return n;
}

const std::string* EntryMapper::oldest_held_cursor() const {
  return held_.empty() ? nullptr : &held_.front().cursor;
}

std::optional<TimePoint> EntryMapper::next_deadline() const {
  if (held_.empty()) return std::nullopt;
  return held_.front().since + o_.partial_timeout;
}

}  // namespace logship::plugins::journald
