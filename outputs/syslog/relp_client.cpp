#include "outputs/syslog/relp_client.h"

#include <algorithm>

#include "outputs/syslog/relp_protocol.h"

namespace logship::syslog {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kWriteChunk = 256 * 1024;
constexpr std::size_t kReadChunk = 16 * 1024;

}  // namespace

RelpClient::RelpClient(Connection& conn, uint32_t window, std::chrono::milliseconds timeout)
    : conn_(conn), window_(std::max<uint32_t>(window, 1)), timeout_(timeout) {}

void RelpClient::drop() {
  conn_.close();
  reset();
}

void RelpClient::reset() {
  open_ = false;
  server_closed_ = false;
  closing_ = false;
  outstanding_ = 0;
  out_.clear();
  in_.clear();
}

Status RelpClient::fail(Failure kind, Status s) {
  last_failure_ = kind;
  drop();
  return s;
}

Status RelpClient::open() {
  reset();
  if (!conn_.connected()) return Status::unavailable("not connected");
  last_failure_ = Failure::kNone;
  next_txnr_ = 1;
  expect_txnr_ = 1;
  open_code_ = 0;
  open_rsp_.clear();
  relp::append_frame(out_, next_txnr_, "open", relp::open_offers(LOGSHIP_VERSION));
  next_txnr_ = relp::next_txnr(next_txnr_);
  outstanding_ = 1;
  Status s = flush();
  if (s.is_ok()) s = wait_replies(0);
  if (!s.is_ok()) return s;
  if (open_code_ != 200) {
    return fail(Failure::kRefused, Status::unavailable("server refused the RELP session: " +
                                                       std::to_string(open_code_) + " " +
                                                       open_rsp_));
  }
  std::string_view version;
  std::string_view commands;
  if (!relp::find_offer(open_rsp_, "relp_version", &version)) {
    return fail(Failure::kProtocol,
                Status::corrupt("RELP open rsp carries no relp_version offer"));
  }
  if (!relp::find_offer(open_rsp_, "commands", &commands) ||
      !relp::list_contains(commands, "syslog")) {
    return fail(Failure::kProtocol,
                Status::corrupt("RELP server does not offer the syslog command"));
  }
  open_ = true;
  return Status::ok();
}

Status RelpClient::send(std::string_view message) {
  if (!ready()) return Status::unavailable("RELP session not open");
  relp::append_frame(out_, next_txnr_, "syslog", message);
  next_txnr_ = relp::next_txnr(next_txnr_);
  ++outstanding_;
  if (outstanding_ >= window_) {
    // Half the window as hysteresis: waiting for a single reply would turn a slow server into
    // one write per message.
    Status s = flush();
    if (s.is_ok()) s = wait_replies(window_ / 2);
    return s;
  }
  if (out_.size() >= kWriteChunk) return flush();
  return Status::ok();
}

Status RelpClient::finish() {
  if (!ready()) return Status::unavailable("RELP session not open");
  Status s = flush();
  if (s.is_ok()) s = wait_replies(0);
  return s;
}

Status RelpClient::flush() {
  if (out_.empty()) return Status::ok();
  Status s = conn_.write(out_, timeout_);
  if (!s.is_ok()) return fail(Failure::kConnection, std::move(s));
  out_.clear();
  if (out_.capacity() > 4 * kWriteChunk) std::string().swap(out_);
  return Status::ok();
}

Status RelpClient::handle_frame(uint32_t txnr, std::string_view command, std::string_view data) {
  if (txnr == 0) {
    if (command == "serverclose") {
      // Often arrives in the same read as the last rsps: wait_replies() first counts what was
      // answered before it, then ends the session.
      server_closed_ = true;
      return Status::ok();
    }
    return Status::ok();   // other hints are advisory
  }
  if (command != "rsp") {
    return fail(Failure::kProtocol, Status::corrupt("unexpected RELP command '" +
                                                    std::string(command) + "' from the server"));
  }
  if (outstanding_ == 0 || txnr != expect_txnr_) {
    std::string expected = outstanding_ == 0 ? "none outstanding" : std::to_string(expect_txnr_);
    return fail(Failure::kProtocol, Status::corrupt("RELP rsp for txnr " + std::to_string(txnr) +
                                                    ", expected " + expected));
  }
  relp::Rsp rsp;
  if (!relp::parse_rsp(data, &rsp)) {
    return fail(Failure::kProtocol, Status::corrupt("malformed RELP rsp for txnr " +
                                                    std::to_string(txnr)));
  }
  expect_txnr_ = relp::next_txnr(expect_txnr_);
  --outstanding_;
  if (!open_) {
    // The handshake's rsp: checked by open() once this returns.
    open_code_ = rsp.code;
    open_rsp_.assign(rsp.code == 200 ? rsp.cmd_data : rsp.text);
    return Status::ok();
  }
  if (closing_) return Status::ok();
  if (rsp.code != 200) {
    return fail(Failure::kRefused,
                Status::unavailable("server refused message (txnr " + std::to_string(txnr) +
                                    "): " + std::to_string(rsp.code) + " " +
                                    std::string(rsp.text.substr(0, 200))));
  }
  ++acked_;
  return Status::ok();
}

Status RelpClient::wait_replies(uint32_t target) {
  char buf[kReadChunk];
  auto deadline = Clock::now() + timeout_;
  while (true) {
    std::size_t pos = 0;
    while (true) {
      relp::Frame f;
      std::size_t used = 0;
      auto r = relp::parse_frame(std::string_view(in_).substr(pos), relp::kMaxReplyData, &f,
                                 &used);
      if (!r.is_ok()) {
        return fail(Failure::kProtocol,
                    r.status().with_context("RELP framing error from the server"));
      }
      if (r.value() == relp::ParseResult::kNeedMore) break;
      pos += used;
      Status s = handle_frame(f.txnr, f.command, f.data);
      if (!s.is_ok()) return s;   // the session was dropped (and in_ cleared)
      if (server_closed_) break;
    }
    if (server_closed_) {
      const uint32_t left = outstanding_;
      const bool was_closing = closing_;
      last_failure_ = Failure::kServerClose;
      drop();
      // Everything asked for was answered (or we were closing anyway): the caller's work is
      // done; the session is not, and ready() now says so.
      if (left <= target || was_closing) return Status::ok();
      return Status::unavailable("server closed the RELP session (serverclose) with " +
                                 std::to_string(left) + " transactions unanswered");
    }
    in_.erase(0, pos);
    if (outstanding_ <= target) return Status::ok();
    std::size_t got = 0;
    Status s = conn_.read_some(buf, sizeof buf, &got, deadline);
    if (!s.is_ok()) return fail(Failure::kConnection, std::move(s));
    if (got == 0) {
      return fail(Failure::kConnection,
                  Status::unavailable("no RELP reply within " + std::to_string(timeout_.count()) +
                                      " ms (" + std::to_string(outstanding_) + " outstanding)"));
    }
    in_.append(buf, got);
    deadline = Clock::now() + timeout_;
  }
}

bool RelpClient::check_idle() {
  if (!ready()) return false;
  char buf[kReadChunk];
  while (true) {
    std::size_t got = 0;
    Status s = conn_.read_some(buf, sizeof buf, &got, Clock::now());
    if (!s.is_ok()) {
      static_cast<void>(fail(Failure::kConnection, std::move(s)));
      return false;
    }
    if (got == 0) return true;
    in_.append(buf, got);
    // Nothing is outstanding: a rsp now is a protocol error, serverclose ends the session.
    if (!wait_replies(outstanding_).is_ok() || !ready()) return false;
  }
}

void RelpClient::close(std::chrono::milliseconds timeout) {
  if (!ready()) {
    drop();
    return;
  }
  auto saved = timeout_;
  timeout_ = std::min(timeout_, timeout);
  closing_ = true;
  relp::append_frame(out_, next_txnr_, "close", "");
  next_txnr_ = relp::next_txnr(next_txnr_);
  ++outstanding_;
  Status s = flush();
  if (s.is_ok()) s = wait_replies(0);
  if (s.is_ok()) conn_.close_gracefully(timeout_);
  timeout_ = saved;
  drop();
}

}  // namespace logship::syslog
