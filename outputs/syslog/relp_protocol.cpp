#include "outputs/syslog/relp_protocol.h"

#include <charconv>

namespace logship::syslog::relp {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Printable excerpt of bad input for error messages (never the whole buffer).
std::string excerpt(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 32)) {
    out += (c >= 32 && c < 127) ? c : '.';
  }
  if (s.size() > 32) out += "...";
  return out;
}

// Reads 1..9 digits at `*pos`. kNeedMore when `in` ends inside or right after the digits.
Result<ParseResult> read_number(std::string_view in, std::size_t* pos, uint32_t* value,
                                std::string_view what) {
  std::size_t start = *pos;
  std::size_t i = start;
  uint32_t v = 0;
  while (i < in.size() && is_digit(in[i])) {
    if (i - start == 9) {
      return Status::corrupt(std::string(what) + " longer than 9 digits");
    }
    v = v * 10 + static_cast<uint32_t>(in[i] - '0');
    ++i;
  }
  if (i == in.size()) return ParseResult::kNeedMore;
  if (i == start) {
    return Status::corrupt("expected " + std::string(what) + ", got '" +
                           excerpt(in.substr(start)) + "'");
  }
  *pos = i;
  *value = v;
  return ParseResult::kFrame;
}

}  // namespace

void append_frame(std::string& out, uint32_t txnr, std::string_view command,
                  std::string_view data) {
  char num[16];
  auto r = std::to_chars(num, num + sizeof num, txnr);
  out.append(num, static_cast<std::size_t>(r.ptr - num));
  out.push_back(' ');
  out.append(command);
  out.push_back(' ');
  r = std::to_chars(num, num + sizeof num, data.size());
  out.append(num, static_cast<std::size_t>(r.ptr - num));
  if (!data.empty()) {
    out.push_back(' ');
    out.append(data);
  }
  out.push_back('\n');
}

std::string open_offers(std::string_view software_version) {
  // relp_version=0 is what librelp itself offers and what rsyslog's imrelp answers with.
  std::string s = "relp_version=0\nrelp_software=logship,";
  s += software_version;
  s += "\ncommands=syslog";
  return s;
}

Result<ParseResult> parse_frame(std::string_view in, std::size_t max_data, Frame* frame,
                                std::size_t* consumed) {
  std::size_t pos = 0;
  uint32_t txnr = 0;
  Result<ParseResult> r = read_number(in, &pos, &txnr, "TXNR");
  if (!r.is_ok() || r.value() != ParseResult::kFrame) return r;
  if (in[pos] != ' ') {
    return Status::corrupt("expected SP after TXNR, got '" + excerpt(in.substr(pos)) + "'");
  }
  ++pos;
  std::size_t cmd_start = pos;
  while (pos < in.size() && is_alpha(in[pos])) {
    if (pos - cmd_start == 32) {
      return Status::corrupt("COMMAND longer than 32 letters");
    }
    ++pos;
  }
  if (pos == in.size()) return ParseResult::kNeedMore;
  if (pos == cmd_start || in[pos] != ' ') {
    return Status::corrupt("bad COMMAND in '" + excerpt(in) + "'");
  }
  std::string_view command = in.substr(cmd_start, pos - cmd_start);
  ++pos;
  uint32_t datalen = 0;
  r = read_number(in, &pos, &datalen, "DATALEN");
  if (!r.is_ok() || r.value() != ParseResult::kFrame) return r;
  if (datalen > max_data) {
    return Status::corrupt("DATALEN " + std::to_string(datalen) + " exceeds the limit of " +
                           std::to_string(max_data));
  }
  std::string_view data;
  if (datalen == 0) {
    // The spec has no SP before an empty DATA; tolerate one, as librelp does.
    if (in[pos] == ' ') {
      ++pos;
      if (pos == in.size()) return ParseResult::kNeedMore;
    }
  } else {
    if (in[pos] != ' ') {
      return Status::corrupt("expected SP after DATALEN, got '" + excerpt(in.substr(pos)) + "'");
    }
    ++pos;
    if (in.size() - pos <= datalen) return ParseResult::kNeedMore;   // data + trailer
    data = in.substr(pos, datalen);
    pos += datalen;
  }
  if (in[pos] != '\n') {
    return Status::corrupt("frame trailer is not LF (framing error) near '" +
                           excerpt(in.substr(pos)) + "'");
  }
  ++pos;
  frame->txnr = txnr;
  frame->command = command;
  frame->data = data;
  *consumed = pos;
  return ParseResult::kFrame;
}

bool parse_rsp(std::string_view data, Rsp* rsp) {
  if (data.size() < 3 || !is_digit(data[0]) || !is_digit(data[1]) || !is_digit(data[2])) {
    return false;
  }
  if (data.size() > 3 && data[3] != ' ' && data[3] != '\n') return false;
  rsp->code = (data[0] - '0') * 100 + (data[1] - '0') * 10 + (data[2] - '0');
  std::string_view rest = data.substr(3);
  if (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
  std::size_t lf = rest.find('\n');
  if (lf == std::string_view::npos) {
    rsp->text = rest;
    rsp->cmd_data = {};
  } else {
    rsp->text = rest.substr(0, lf);
    rsp->cmd_data = rest.substr(lf + 1);
  }
  return true;
}

bool find_offer(std::string_view offers, std::string_view name, std::string_view* value) {
  while (!offers.empty()) {
    std::size_t lf = offers.find('\n');
    std::string_view line = offers.substr(0, lf);
    offers = lf == std::string_view::npos ? std::string_view() : offers.substr(lf + 1);
    std::size_t eq = line.find('=');
    std::string_view key = line.substr(0, eq);
    if (key == name) {
      *value = eq == std::string_view::npos ? std::string_view() : line.substr(eq + 1);
      return true;
    }
  }
  return false;
}

bool list_contains(std::string_view list, std::string_view item) {
  while (true) {
    std::size_t comma = list.find(',');
    if (list.substr(0, comma) == item) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace logship::syslog::relp
