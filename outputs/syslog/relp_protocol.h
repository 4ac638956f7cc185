#pragma once
// RELP (rsyslog's Reliable Event Logging Protocol) framing, client side. Pure functions over
// byte buffers so split reads, garbage and limits are unit-tested without sockets.
//
//   FRAME  = TXNR SP COMMAND SP DATALEN [SP DATA] LF     (no SP and no DATA when DATALEN is 0)
//   TXNR   = 1*9DIGIT (0 = server hint such as "serverclose"; commands use 1..999999999)
//   COMMAND = 1*32ALPHA, DATALEN = 1*9DIGIT
//   rsp DATA = 3DIGIT [SP HUMAN-TEXT] [LF CMDDATA]        (200 = ok, anything else = error)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/core/status.h"

namespace logship::syslog::relp {

inline constexpr uint32_t kMaxTxnr = 999999999;
// Largest reply accepted: rsp frames are tiny, the open rsp carries a few offers. A larger
// DATALEN is a broken or hostile peer, not something to buffer.
inline constexpr std::size_t kMaxReplyData = 64 * 1024;

// The transaction number after `t` (wraps from 999,999,999 to 1, as the spec says).
inline uint32_t next_txnr(uint32_t t) { return t >= kMaxTxnr ? 1 : t + 1; }

// Appends one frame. `data` is binary safe (its length is sent, nothing is escaped).
void append_frame(std::string& out, uint32_t txnr, std::string_view command,
                  std::string_view data);

// The data of the client's "open": offers, LF-separated.
std::string open_offers(std::string_view software_version);

struct Frame {
  uint32_t txnr = 0;
  std::string_view command;
  std::string_view data;
};

enum class ParseResult { kFrame, kNeedMore };

// Parses the first frame in `in`. kFrame: `*frame` points into `in` and `*consumed` is its
// length. kNeedMore: `in` is a valid but incomplete prefix. An error: the connection must be
// dropped (there is no way to resynchronise a RELP stream).
Result<ParseResult> parse_frame(std::string_view in, std::size_t max_data, Frame* frame,
                                std::size_t* consumed);

struct Rsp {
  int code = 0;                // 200 ok, else an error
  std::string_view text;       // human-readable message (no LF)
  std::string_view cmd_data;   // after the first LF: offers for "open"
};

// Parses a rsp frame's data. False when it does not start with a 3-digit status.
bool parse_rsp(std::string_view data, Rsp* rsp);

// Looks up offer `name` in an open rsp's cmd_data ("name=value\nname2=v1,v2\n").
// Returns true when present; `*value` is the text after '=' (empty without '=').
bool find_offer(std::string_view offers, std::string_view name, std::string_view* value);

// True when the comma-separated `list` contains `item`.
bool list_contains(std::string_view list, std::string_view item);

}  // namespace logship::syslog::relp
