#include "inputs/docker/file_decoder.h"

#include <algorithm>
#include <cstring>

namespace logship::docker {

std::size_t FileDecoder::consume(const char* data, std::size_t len, std::size_t capacity,
                                 uint64_t base, Batch& batch, TimePoint now) {
  std::size_t pos = 0;
  while (pos < len) {
    const char* nl = static_cast<const char*>(std::memchr(data + pos, '\n', len - pos));
    if (nl == nullptr) {
      if (skipping_) {
        pos = len;
        consumed_end_ = base + pos;
      } else if (len - pos > max_raw_line()) {
        malformed(std::string_view(data + pos, len - pos), base + pos, LineError::kBadFormat,
                  batch, true);
        skipping_ = true;
        pos = len;
        consumed_end_ = base + pos;
      }
      break;
    }
    const std::size_t end = static_cast<std::size_t>(nl - data);
    if (skipping_) {
      skipping_ = false;
    } else {
      // copytruncate against a writer without O_APPEND leaves a hole of NULs before new data.
      std::size_t start = pos;
      while (start < end && data[start] == '\0') ++start;
      if (start < end) {
        line(std::string_view(data + start, end - start), capacity - start, base + start, batch,
             now);
      }
    }
    pos = end + 1;
    consumed_end_ = base + pos;
  }
  charge_pending();
  return pos;
}

void FileDecoder::charge_pending() {
  static const std::size_t kInline = std::string().capacity();   // no heap below this
  std::size_t n = 0;
  for (const Pending& p : pending_) n += p.buf.capacity() > kInline ? p.buf.capacity() : 0;
  pending_mem_.set(n);
}

void FileDecoder::line(std::string_view text, std::size_t capacity, uint64_t offset,
                       Batch& batch, TimePoint now) {
  ++stats_->lines;
  LineError err = o_.format == LogFormat::kDocker ? json_->decode(text, capacity, &decoded_)
                                                  : cri_.decode(text, &decoded_);
  if (err != LineError::kNone) {
    malformed(text, offset, err, batch, false);
    return;
  }
  std::string_view msg = decoded_.message;
  if (o_.format == LogFormat::kDocker && !decoded_.partial) {
    msg.remove_suffix(1);   // the '\n' the container wrote; TTY output ends in "\r\n"
    if (!msg.empty() && msg.back() == '\r') msg.remove_suffix(1);
  }
  Pending& p = pending_[static_cast<std::size_t>(decoded_.stream)];
  if (decoded_.partial) {
    if (!p.active) {
      p.active = true;
      p.truncated = false;
      p.start = offset;
      p.time_ns = decoded_.time_ns;
      p.buf.clear();
    }
    p.last = now;
    append(p, msg);
    return;
  }
  Event* e;
  if (p.active) {
    append(p, msg);
    e = &new_event(batch, p.buf, decoded_.stream, p.time_ns, p.start,
                   p.truncated ? kEventTruncated : 0);
    p.active = false;
    // Merges are rare and at least 16 KiB each: let go, or every container that ever wrote one
    // would keep its largest.
    std::string().swap(p.buf);
  } else {
    uint8_t flags = 0;
    if (msg.size() > o_.max_line_size) {
      stats_->dropped_bytes += msg.size() - o_.max_line_size;
      msg = msg.substr(0, o_.max_line_size);
      flags = kEventTruncated;
    }
    e = &new_event(batch, msg, decoded_.stream, decoded_.time_ns, offset, flags);
  }
  if (!decoded_.attrs.empty()) {
    e->fields.reserve(decoded_.attrs.size());
    for (const auto& [k, v] : decoded_.attrs) {
      e->fields.push_back(Field{batch.copy(k), Value::string(batch.copy(v))});
    }
  }
}

void FileDecoder::append(Pending& p, std::string_view chunk) {
  if (p.truncated) {
    stats_->dropped_bytes += chunk.size();
    return;
  }
  std::size_t room = o_.max_line_size - std::min(o_.max_line_size, p.buf.size());
  if (chunk.size() > room) {
    stats_->dropped_bytes += chunk.size() - room;
    chunk = chunk.substr(0, room);
    p.truncated = true;
  }
  p.buf.append(chunk);
}

Event& FileDecoder::new_event(Batch& batch, std::string_view message, Stream s, int64_t time_ns,
                              uint64_t offset, uint8_t flags) {
  Event& e = batch.add_event();
  e.message = batch.copy(message);
  e.stream = s;
  e.time_ns = time_ns;
  e.offset = offset;
  e.flags = flags;
  ++stats_->events;
  series_.count(message.size());
  if (flags & kEventTruncated) ++stats_->truncated;
  return e;
}

void FileDecoder::malformed(std::string_view text, uint64_t offset, LineError err, Batch& batch,
                            bool truncated) {
  ++stats_->malformed;
  ++stats_->by_error[static_cast<std::size_t>(err)];
  if (report_.counter) report_.counter->fetch_add(1, std::memory_order_relaxed);
  if (report_.log && report_.limit) {
    report_.log->warn(*report_.limit, "malformed log line",
                      log::kv("error", line_error_name(err)) +
                          log::kv("offset", static_cast<int64_t>(offset)) +
                          log::kv("length", static_cast<int64_t>(text.size())) +
                          log::kv("action", o_.skip_malformed ? "skip" : "raw"));
  }
  if (o_.skip_malformed) return;
  uint8_t flags = kEventMalformed;
  if (text.size() > o_.max_line_size) {
    stats_->dropped_bytes += text.size() - o_.max_line_size;
    text = text.substr(0, o_.max_line_size);
    flags |= kEventTruncated;
  }
  if (truncated) flags |= kEventTruncated;
  new_event(batch, text, Stream::kNone, wall_now_ns(), offset, flags);
}

uint64_t FileDecoder::safe_offset() const {
  uint64_t off = consumed_end_;
  for (const Pending& p : pending_) {
    if (p.active) off = std::min(off, p.start);
  }
  return off;
}

std::optional<TimePoint> FileDecoder::next_flush() const {
  std::optional<TimePoint> best;
  for (const Pending& p : pending_) {
    if (!p.active) continue;
    TimePoint t = p.last + o_.partial_timeout;
    if (!best || t < *best) best = t;
  }
  return best;
}

void FileDecoder::flush(Batch& batch, TimePoint now, bool force) {
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    Pending& p = pending_[i];
    if (!p.active || (!force && now - p.last < o_.partial_timeout)) continue;
    new_event(batch, p.buf, static_cast<Stream>(i), p.time_ns, p.start,
              p.truncated ? kEventTruncated : 0);
    p.active = false;
    std::string().swap(p.buf);
  }
  charge_pending();
}

void FileDecoder::reset(uint64_t offset) {
  for (Pending& p : pending_) {
    p.active = false;
    std::string().swap(p.buf);
  }
  charge_pending();
  skipping_ = false;
  consumed_end_ = offset;
}

}  // namespace logship::docker
