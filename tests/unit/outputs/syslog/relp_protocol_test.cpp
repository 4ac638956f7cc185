#include "outputs/syslog/relp_protocol.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace logship::syslog::relp {
namespace {

struct Parsed {
  std::optional<ParseResult> result;   // empty: an error
  Frame frame;
  std::size_t consumed = 0;
  std::string error;
};

Parsed parse(std::string_view in, std::size_t max_data = kMaxReplyData) {
  Parsed p;
  Result<ParseResult> r = parse_frame(in, max_data, &p.frame, &p.consumed);
  if (r.is_ok()) {
    p.result = r.value();
  } else {
    p.error = r.status().message();
  }
  return p;
}

TEST(RelpFrame, EncodesHeaderDataAndTrailer) {
  std::string out;
  append_frame(out, 2, "syslog", "<14>1 - h a - - - hi");
  append_frame(out, 3, "close", "");
  EXPECT_EQ(out, "2 syslog 20 <14>1 - h a - - - hi\n3 close 0\n");
}

TEST(RelpFrame, DataIsBinarySafe) {
  const std::string data("a\nb\0c 7 rsp 3\n", 14);
  std::string out;
  append_frame(out, 999999999, "syslog", data);
  EXPECT_EQ(out, "999999999 syslog 14 " + data + "\n");
  Parsed p = parse(out);
  ASSERT_EQ(p.result, ParseResult::kFrame) << p.error;
  EXPECT_EQ(p.frame.txnr, 999999999u);
  EXPECT_EQ(p.frame.command, "syslog");
  EXPECT_EQ(p.frame.data, data);
  EXPECT_EQ(p.consumed, out.size());
}

TEST(RelpFrame, TxnrWrapsToOne) {
  EXPECT_EQ(next_txnr(1), 2u);
  EXPECT_EQ(next_txnr(999999998), 999999999u);
  EXPECT_EQ(next_txnr(999999999), 1u);
}

TEST(RelpFrame, OpenOffers) {
  std::string offers = open_offers("1.2.3");
  EXPECT_EQ(offers, "relp_version=0\nrelp_software=logship,1.2.3\ncommands=syslog");
  std::string_view v;
  ASSERT_TRUE(find_offer(offers, "commands", &v));
  EXPECT_EQ(v, "syslog");
}

TEST(RelpParse, ParsesConsecutiveFramesAndReportsConsumed) {
  const std::string in = "2 rsp 6 200 OK\n0 serverclose 0\n3 rsp";
  Parsed a = parse(in);
  ASSERT_EQ(a.result, ParseResult::kFrame) << a.error;
  EXPECT_EQ(a.frame.txnr, 2u);
  EXPECT_EQ(a.frame.command, "rsp");
  EXPECT_EQ(a.frame.data, "200 OK");
  EXPECT_EQ(a.consumed, 15u);
  Parsed b = parse(std::string_view(in).substr(a.consumed));
  ASSERT_EQ(b.result, ParseResult::kFrame) << b.error;
  EXPECT_EQ(b.frame.txnr, 0u);
  EXPECT_EQ(b.frame.command, "serverclose");
  EXPECT_EQ(b.frame.data, "");
  EXPECT_EQ(b.consumed, 16u);
  EXPECT_EQ(parse(std::string_view(in).substr(a.consumed + b.consumed)).result,
            ParseResult::kNeedMore);
}

TEST(RelpParse, EveryPrefixOfAFrameNeedsMore) {
  // A reply split at any byte (TCP may deliver one byte at a time) is never an error and
  // never a frame before its trailer arrived.
  const std::string frames[] = {
      "12 rsp 6 200 OK\n",
      "1 rsp 94 200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,https://librelp.adiscon."
      "com\ncommands=syslog\n",
      "0 serverclose 0\n",
      "5 close 0 \n",
  };
  for (const std::string& f : frames) {
    for (std::size_t n = 0; n < f.size(); ++n) {
      Parsed p = parse(std::string_view(f).substr(0, n));
      EXPECT_EQ(p.result, ParseResult::kNeedMore) << "prefix " << n << " of '" << f << "': "
                                                  << p.error;
    }
    Parsed whole = parse(f);
    ASSERT_EQ(whole.result, ParseResult::kFrame) << f << ": " << whole.error;
    EXPECT_EQ(whole.consumed, f.size());
  }
}

TEST(RelpParse, OpenRspOffers) {
  const std::string data =
      "200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,https://librelp.adiscon.com\n"
      "commands=syslog\n";
  Rsp rsp;
  ASSERT_TRUE(parse_rsp(data, &rsp));
  EXPECT_EQ(rsp.code, 200);
  EXPECT_EQ(rsp.text, "OK");
  std::string_view v;
  ASSERT_TRUE(find_offer(rsp.cmd_data, "relp_version", &v));
  EXPECT_EQ(v, "0");
  ASSERT_TRUE(find_offer(rsp.cmd_data, "relp_software", &v));
  EXPECT_EQ(v, "librelp,1.11.0,https://librelp.adiscon.com");
  ASSERT_TRUE(find_offer(rsp.cmd_data, "commands", &v));
  EXPECT_TRUE(list_contains(v, "syslog"));
  EXPECT_FALSE(find_offer(rsp.cmd_data, "relp", &v));
  EXPECT_FALSE(find_offer(rsp.cmd_data, "commands=syslog", &v));
}

TEST(RelpParse, RspCodesAndText) {
  Rsp rsp;
  ASSERT_TRUE(parse_rsp("500 error: message too long", &rsp));
  EXPECT_EQ(rsp.code, 500);
  EXPECT_EQ(rsp.text, "error: message too long");
  EXPECT_EQ(rsp.cmd_data, "");
  ASSERT_TRUE(parse_rsp("200", &rsp));
  EXPECT_EQ(rsp.code, 200);
  EXPECT_EQ(rsp.text, "");
  EXPECT_FALSE(parse_rsp("", &rsp));
  EXPECT_FALSE(parse_rsp("20", &rsp));
  EXPECT_FALSE(parse_rsp("OK 200", &rsp));
  EXPECT_FALSE(parse_rsp("2000 OK", &rsp));
}

TEST(RelpParse, ListContainsWholeItemsOnly) {
  EXPECT_TRUE(list_contains("syslog", "syslog"));
  EXPECT_TRUE(list_contains("eventlog,syslog", "syslog"));
  EXPECT_TRUE(list_contains("syslog,eventlog", "syslog"));
  EXPECT_FALSE(list_contains("syslogx,xsyslog", "syslog"));
  EXPECT_FALSE(list_contains("", "syslog"));
}

TEST(RelpParse, GarbageIsAnErrorNotAWait) {
  const char* bad[] = {
      "HTTP/1.1 400 Bad Request\r\n",   // not a TXNR
      "x",                              // not a digit
      "2rsp 6 200 OK\n",                // no SP after TXNR
      "2  rsp 6 200 OK\n",              // empty command
      "2 rs9 6 200 OK\n",               // command not alphabetic
      "2 rsp x 200 OK\n",               // DATALEN not a number
      "2 rsp 6\n200 OK\n",              // no SP after DATALEN
      "2 rsp 6 200 OKX\n",              // DATALEN too short: trailer is not LF
      "2 rsp 0 X",                      // empty data followed by garbage
      "1234567890 rsp 6 200 OK\n",      // TXNR longer than 9 digits
      "2 rsp 1234567890 ",              // DATALEN longer than 9 digits
  };
  for (const char* b : bad) {
    Parsed p = parse(b);
    EXPECT_FALSE(p.result.has_value()) << b;
    EXPECT_FALSE(p.error.empty()) << b;
  }
  Parsed p = parse("2 abcdefghijklmnopqrstuvwxyzabcdefghij 0\n");
  EXPECT_FALSE(p.result.has_value());
  EXPECT_NE(p.error.find("32"), std::string::npos) << p.error;
}

TEST(RelpParse, DatalenAboveTheLimitIsRejectedBeforeBuffering) {
  // The header alone decides: nothing of the announced 100 MB has to arrive first.
  Parsed p = parse("2 rsp 100000000 ", 65536);
  EXPECT_FALSE(p.result.has_value());
  EXPECT_NE(p.error.find("exceeds"), std::string::npos) << p.error;
  EXPECT_EQ(parse("2 rsp 65536 ", 65536).result, ParseResult::kNeedMore);
}

TEST(RelpParse, ErrorTextIsPrintableAndBounded) {
  std::string garbage = "\x01\x02\xff";
  garbage += std::string(1000, 'A');
  Parsed p = parse(garbage);
  ASSERT_FALSE(p.result.has_value());
  EXPECT_LT(p.error.size(), 100u);
  for (char c : p.error) EXPECT_TRUE(c >= 32 && c < 127) << static_cast<int>(c);
}

}  // namespace
}  // namespace logship::syslog::relp
