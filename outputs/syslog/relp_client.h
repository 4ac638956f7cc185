#pragma once
// A RELP client session over a syslog::Connection (plain TCP or TLS, deadline-bounded I/O).
//
// Each syslog message is one transaction; up to `window` of them are outstanding. The server
// answers in order (librelp does; the spec requires it), so the outstanding transactions are
// always the consecutive txnrs from expect_txnr_ on, and acknowledgements form a prefix of what
// was sent: acked() counts how many of the messages given to send() since reset_acked() the
// server confirmed with 200. Any failure (refusal, garbage, a txnr out of order, serverclose,
// connection loss, no progress within the timeout) closes the connection: a RELP stream cannot
// be resynchronised, and everything not acknowledged must be sent again anyway.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/core/status.h"
#include "outputs/syslog/syslog_transport.h"

namespace logship::syslog {

class RelpClient {
 public:
  enum class Failure { kNone, kConnection, kRefused, kProtocol, kServerClose };

  RelpClient(Connection& conn, uint32_t window, std::chrono::milliseconds timeout);

  bool ready() const { return open_ && conn_.connected(); }
  // Runs the open handshake on a freshly connected Connection.
  Status open();
  // Sends one syslog message (a transaction). May block to wait for replies when the window is
  // full. An error means the session is gone (connection closed).
  Status send(std::string_view message);
  // Sends what is buffered and waits until every outstanding transaction is answered.
  Status finish();
  // Without blocking, handles what the server sent while the session was idle (a serverclose
  // hint, EOF). False when the session is gone.
  bool check_idle();
  // Ends the session: "close", waits (bounded) for its rsp, then closes the connection.
  void close(std::chrono::milliseconds timeout);
  // Drops the session and the connection without a close command.
  void drop();

  uint64_t acked() const { return acked_; }
  void reset_acked() { acked_ = 0; }
  Failure last_failure() const { return last_failure_; }

 private:
  void reset();
  Status fail(Failure kind, Status s);
  Status flush();
  // Reads and handles replies until at most `target` transactions are outstanding.
  Status wait_replies(uint32_t target);
  Status handle_frame(uint32_t txnr, std::string_view command, std::string_view data);

  Connection& conn_;
  uint32_t window_;
  std::chrono::milliseconds timeout_;
  bool open_ = false;
  bool closing_ = false;         // "close" sent: its rsp ends the session
  bool server_closed_ = false;   // "serverclose" hint received
  uint32_t next_txnr_ = 1;       // txnr of the next command
  uint32_t expect_txnr_ = 1;     // txnr of the oldest outstanding command
  uint32_t outstanding_ = 0;
  uint64_t acked_ = 0;
  Failure last_failure_ = Failure::kNone;
  std::string out_;              // frames not yet written
  std::string in_;               // received bytes not yet parsed into frames
  std::string open_rsp_;         // offers of the open rsp (for the handshake check)
  int open_code_ = 0;
};

}  // namespace logship::syslog
