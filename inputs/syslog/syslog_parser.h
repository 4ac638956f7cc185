#pragma once
// Parses one syslog message (RFC 5424, RFC 3164 and the forms real senders use) into views of
// the frame, and splits a TCP byte stream into frames (octet counting or LF, per frame).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace logship::syslog {

struct SdParam {
  std::string_view id;
  std::string_view name;
  std::string_view value;   // raw: may hold \" \\ \] escapes (see unescape_sd_value)
};

struct ParsedMessage {
  int facility = -1;
  int severity = -1;
  int version = 0;          // 1 = RFC 5424, 0 = BSD (RFC 3164 and relatives)
  int64_t time_ns = 0;      // 0 = no usable timestamp
  std::string_view hostname, app_name, procid, msgid, message;
  std::vector<SdParam> sd;  // reused between calls
  bool malformed = false;   // a header part was broken; message is the rest of the frame
};

enum class ParseResult { kOk, kGarbage };

// `now_ns` decides the year of RFC 3164 timestamps (which have none) and is otherwise unused.
// Garbage = no valid <PRI>; everything else yields a message, marked malformed when a header
// part could not be parsed.
ParseResult parse_message(std::string_view frame, int64_t now_ns, ParsedMessage* out);

// Appends `raw` with the RFC 5424 PARAM-VALUE escapes (\" \\ \]) resolved.
void unescape_sd_value(std::string_view raw, std::string* out);
// Names for fields: "local0", "warning"; "" when out of range.
std::string_view facility_name(int f);
std::string_view severity_name(int s);

// Splits a stream into frames. Per frame: digits then a space = octet counting (RFC 6587 3.4.1),
// anything else = LF-terminated. Frames above `max_frame` are skipped and reported.
class Framer {
 public:
  enum class Error { kOversized, kIncomplete };
  explicit Framer(std::size_t max_frame) : max_(max_frame) {}

  // Calls on_frame(std::string_view) for each complete frame and on_error(Error) per skipped
  // one. Views are valid during the callback only.
  template <class OnFrame, class OnError>
  void feed(std::string_view data, OnFrame&& on_frame, OnError&& on_error);
  // The connection ended: a final LF frame without its LF is still a frame; a partial
  // octet-counted frame is reported incomplete.
  template <class OnFrame, class OnError>
  void finish(OnFrame&& on_frame, OnError&& on_error);
  std::size_t buffered() const { return buf_.size(); }

 private:
  std::size_t max_;
  std::string buf_;
  uint64_t skip_bytes_ = 0;   // rest of an oversized octet-counted frame
  bool skip_to_lf_ = false;   // rest of an oversized LF frame
  bool partial_octet_ = false;
};

template <class OnFrame, class OnError>
void Framer::feed(std::string_view data, OnFrame&& on_frame, OnError&& on_error) {
  if (skip_bytes_ > 0) {
    std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(skip_bytes_, data.size()));
    skip_bytes_ -= n;
    data.remove_prefix(n);
  }
  if (skip_to_lf_) {
    std::size_t nl = data.find('\n');
    if (nl == std::string_view::npos) return;
    skip_to_lf_ = false;
    data.remove_prefix(nl + 1);
  }
  // Avoid copying when nothing is buffered: frames are taken straight from `data`.
  std::string_view view;
  if (buf_.empty()) {
    view = data;
  } else {
    buf_.append(data);
    view = buf_;
  }
  std::size_t pos = 0;
  partial_octet_ = false;
  while (pos < view.size()) {
    char c = view[pos];
    if (c == '\n' || c == '\r' || c == '\0' || c == ' ') {   // stray separators between frames
      ++pos;
      continue;
    }
    if (c >= '1' && c <= '9') {
      std::size_t i = pos;
      uint64_t len = 0;
      while (i < view.size() && i - pos < 10 && view[i] >= '0' && view[i] <= '9') {
        len = len * 10 + static_cast<uint64_t>(view[i] - '0');
        ++i;
      }
      if (i == view.size() && i - pos < 10) {
        partial_octet_ = true;
        break;   // need more digits or the space
      }
      // Ten digits ending the data: no room for the space here; the LF path below buffers it.
      if (i < view.size() && view[i] == ' ') {
        std::size_t body = i + 1;
        if (len > max_) {
          on_error(Error::kOversized);
          uint64_t have = view.size() - body;
          if (have >= len) {
            pos = body + static_cast<std::size_t>(len);
            continue;
          }
          skip_bytes_ = len - have;
          pos = view.size();
          break;
        }
        if (view.size() - body < len) {
          partial_octet_ = true;
          break;
        }
        on_frame(view.substr(body, static_cast<std::size_t>(len)));
        pos = body + static_cast<std::size_t>(len);
        continue;
      }
      // Digits not followed by a space: an LF frame that starts with a digit.
    }
    std::size_t nl = view.find('\n', pos);
    if (nl == std::string_view::npos) {
      // A trailing '\r' may be the CR of a CRLF not yet read, which is not frame content: count
      // it and a frame of exactly max_ bytes is rejected or not depending on the read boundary.
      std::size_t pending = view.size() - pos;
      if (view.back() == '\r') --pending;
      if (pending > max_) {
        on_error(Error::kOversized);
        skip_to_lf_ = true;
        pos = view.size();
      }
      break;
    }
    std::size_t end = nl;
    if (end > pos && view[end - 1] == '\r') --end;
    if (end - pos > max_) {
      on_error(Error::kOversized);
    } else {
      on_frame(view.substr(pos, end - pos));
    }
    pos = nl + 1;
  }
  if (buf_.empty()) {
    buf_.assign(view.substr(pos));
  } else {
    buf_.erase(0, pos);
  }
}

template <class OnFrame, class OnError>
void Framer::finish(OnFrame&& on_frame, OnError&& on_error) {
  std::string_view rest = buf_;
  while (!rest.empty() && (rest.back() == '\r' || rest.back() == '\n')) rest.remove_suffix(1);
  if (partial_octet_) {
    on_error(Error::kIncomplete);
  } else if (!rest.empty() && !skip_to_lf_ && skip_bytes_ == 0) {
    on_frame(rest);
  }
  buf_.clear();
  skip_bytes_ = 0;
  skip_to_lf_ = false;
  partial_octet_ = false;
}

}  // namespace logship::syslog
