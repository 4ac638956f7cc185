// Sends events to a syslog server: RFC 5424 or RFC 3164 over UDP, TCP (octet counting or LF
// framing), TLS (RFC 5425) or RELP (plain or TLS).
//
// udp/tcp/tls: a delivery is acknowledged once every byte of it was written to the connection
// (for TLS: encrypted and handed to the kernel). Syslog has no application acknowledgement, so
// what the kernel buffered when the server died is lost: before each delivery the connection is
// checked for a close by the server, which narrows that window to writes racing the server's
// own shutdown.
//
// relp/relp+tls: every message is a RELP transaction and a delivery is acknowledged only when
// the server answered 200 for each of its messages. Anything else (connection loss, refusal,
// protocol error) is a retry. The acknowledged prefix of a failed delivery is remembered, so the
// retry of the same batches resends only what was not confirmed: duplicates are limited to
// messages the server took whose rsp was lost with the connection (at most the window).
#include <unistd.h>

#include <charconv>
#include <climits>

#include "config/enum_option.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/component_log.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/component_metrics.h"
#include "daemon/core/json_writer.h"
#include "outputs/syslog/relp_client.h"
#include "outputs/syslog/syslog_encoder.h"
#include "outputs/syslog/syslog_transport.h"

namespace logship::syslog {

constexpr config::EnumNames<Format, 2> enum_names(Format) {
  return {{{"rfc5424", Format::k5424}, {"rfc3164", Format::k3164}}};
}

}  // namespace logship::syslog

namespace logship::plugins {
namespace {

// The `transport` option: the wire below (syslog::Transport) and whether RELP runs on it.
enum class TransportOption { kUdp, kTcp, kTls, kRelp, kRelpTls };
constexpr config::EnumNames<TransportOption, 5> enum_names(TransportOption) {
  return {{{"udp", TransportOption::kUdp},
           {"tcp", TransportOption::kTcp},
           {"tls", TransportOption::kTls},
           {"relp", TransportOption::kRelp},
           {"relp+tls", TransportOption::kRelpTls}}};
}
constexpr bool is_relp(TransportOption t) {
  return t == TransportOption::kRelp || t == TransportOption::kRelpTls;
}
constexpr syslog::Transport wire_of(TransportOption t) {
  switch (t) {
    case TransportOption::kUdp: return syslog::Transport::kUdp;
    case TransportOption::kTls:
    case TransportOption::kRelpTls: return syslog::Transport::kTls;
    case TransportOption::kTcp:
    case TransportOption::kRelp: return syslog::Transport::kTcp;
  }
  return syslog::Transport::kTcp;
}

enum class Framing { kOctetCounting, kLf };
constexpr config::EnumNames<Framing, 2> enum_names(Framing) {
  return {{{"octet-counting", Framing::kOctetCounting}, {"lf", Framing::kLf}}};
}

using config::ByteSize;
using config::Millis;

struct SyslogOutputOptions {
  std::string host = "127.0.0.1";
  int64_t port = 0;
  TransportOption transport = TransportOption::kTcp;
  syslog::Format format = syslog::Format::k5424;
  Framing framing = Framing::kOctetCounting;
  std::string facility = "user";
  std::string severity = "info";
  std::string severity_field = "level";
  std::string hostname;
  std::string app_name = "{container_name}";
  std::string procid = "-";
  std::string msgid = "-";
  std::string sd_id = "logship@32473";
  bool sd_tags = true;
  std::vector<std::string> sd_fields;
  bool bom = true;
  ByteSize max_message_size{0};
  Millis timeout{10000};
  int64_t window_size = 128;
  bool tls_verify = true;
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_server_name;

  static const config::OptionSchema<SyslogOutputOptions>& schema() {
    using O = SyslogOutputOptions;
    static const auto s =
        config::OptionSchema<O>{}
            .add("host", &O::host, "Syslog server name or address.")
            .add("port", &O::port,
                 "Server port; 0 = 514 (udp, tcp), 6514 (tls) or 2514 (relp, relp+tls).",
                 config::in_range(0, 65535))
            .add("transport", &O::transport,
                 "udp, tcp, tls (RFC 5425), relp or relp+tls. relp (rsyslog's Reliable Event "
                 "Logging Protocol, e.g. to imrelp) is the lossless choice: the server "
                 "acknowledges every message and a delivery counts as done only when all its "
                 "messages were acknowledged; on connection loss the rest is resent "
                 "(duplicates possible, loss not). tcp/tls lose what sat in socket buffers when "
                 "the server dies. relp+tls is TLS from the first byte (imrelp tls=\"on\") "
                 "and uses the tls_* options.")
            .add("format", &O::format, "Message format.")
            .add("framing", &O::framing,
                 "TCP framing (RFC 6587): octet-counting is binary safe; lf ends each message "
                 "with a newline and turns newlines inside messages into spaces. TLS always "
                 "uses octet-counting; RELP frames messages itself (binary safe).")
            .add("facility", &O::facility, "Facility name (user, daemon, local0..local7) or 0..23.")
            .add("severity", &O::severity,
                 "Severity when the event has no level field and no stream (stderr = err, "
                 "stdout = info).")
            .add("severity_field", &O::severity_field,
                 "Event field holding a level word (error, warn, info, debug, fatal, ...) or "
                 "0..7; empty = not used.")
            .add("hostname", &O::hostname, "HOSTNAME; empty = this machine's host name.")
            .add("app_name", &O::app_name,
                 "APP-NAME (RFC 3164: TAG): a literal, or {name} = the event field or source "
                 "tag `name`.")
            .add("procid", &O::procid, "PROCID: a literal or {name}; '-' = none.")
            .add("msgid", &O::msgid, "MSGID: a literal, {name} or {stream}; '-' = none.")
            .add("sd_id", &O::sd_id,
                 "SD-ID of the element carrying container metadata (private IDs need "
                 "@enterprise-number); empty = no STRUCTURED-DATA.")
            .add("sd_tags", &O::sd_tags,
                 "Put the source tags (container_id, container_name, image, ...) in the element.")
            .add("sd_fields", &O::sd_fields, "Event fields also put in the element.")
            .add("bom", &O::bom, "Prefix RFC 5424 messages with the UTF-8 BOM, as the RFC asks.")
            .add("max_message_size", &O::max_message_size,
                 "Longer messages are cut (counted); 0 = 2048 for udp, 8096 (rsyslog's default "
                 "limit) for tcp, tls and relp (imrelp's default maxDataSize is rsyslog's "
                 "maxMessageSize).")
            .add("timeout", &O::timeout,
                 "Bound on connect, TLS handshake and each write; for RELP also on the wait for "
                 "the next reply.",
                 config::at_least(Millis(10), "10ms"))
            .add("window_size", &O::window_size,
                 "RELP: messages sent and not yet acknowledged, at most (librelp's default).",
                 config::in_range(1, 100000))
            .add("tls_verify", &O::tls_verify, "Verify the server certificate and name.")
            .add("tls_ca_file", &O::tls_ca_file, "CA bundle (PEM); empty = system CAs.")
            .add("tls_cert_file", &O::tls_cert_file,
                 "Client certificate (PEM), optional; imrelp with TLS certificates requires one.")
            .add("tls_key_file", &O::tls_key_file, "Client key (PEM), optional.")
            .add("tls_server_name", &O::tls_server_name,
                 "Name expected in the server certificate (and sent as SNI); empty = host.");
    return s;
  }
  Status validate() const {
    if (host.empty()) return Status::invalid("host must not be empty");
    if (syslog::facility_from_name(facility) < 0) {
      return Status::invalid("unknown facility '" + facility + "'");
    }
    if (syslog::severity_from_word(severity) < 0) {
      return Status::invalid("unknown severity '" + severity + "'");
    }
    if (is_relp(transport) && framing != Framing::kOctetCounting) {
      return Status::invalid("framing does not apply to relp (RELP frames messages itself)");
    }
    if (transport == TransportOption::kTls && framing != Framing::kOctetCounting) {
      return Status::invalid("tls requires framing: octet-counting (RFC 5425)");
    }
    if (max_message_size.bytes != 0 && max_message_size.bytes < 480) {
      return Status::invalid("max_message_size must be at least 480 bytes (RFC 5424 minimum)");
    }
    if (transport == TransportOption::kUdp && max_message_size.bytes > 65507) {
      return Status::invalid("max_message_size for udp must be at most 65507 bytes");
    }
    return Status::ok();
  }
};

std::string local_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "-";
  return buf;
}

class SyslogOutput final : public Output {
 public:
  explicit SyslogOutput(const SyslogOutputOptions& o)
      : o_(o),
        relp_(is_relp(o.transport)),
        transport_(wire_of(o.transport)),
        octet_counting_(o.framing == Framing::kOctetCounting),
        conn_(transport_, o.host,
              static_cast<uint16_t>(o.port != 0                         ? o.port
                                    : relp_                             ? 2514
                                    : transport_ == syslog::Transport::kTls ? 6514
                                                                            : 514),
              syslog::TlsSettings{o.tls_verify, o.tls_ca_file, o.tls_cert_file, o.tls_key_file,
                                  o.tls_server_name}),
        relp_client_(conn_, static_cast<uint32_t>(o.window_size), o.timeout),
        encoder_(settings(o, transport_, relp_)) {}

  ~SyslogOutput() override { conn_.close(); }

  Status start(OutputContext& ctx) override {
    name_ = ctx.name();
    const PluginContext plugin{PluginKind::kOutput, name_, "syslog"};
    log_ = ComponentLog(plugin);
    const ComponentMetrics metrics(plugin);
    sent_ = &metrics.counter("logship_syslog_messages_sent_total",
        "Syslog messages written to the connection");
    truncated_ = &metrics.counter("logship_syslog_truncated_total",
        "Syslog messages cut to max_message_size");
    connect_failures_ = &metrics.counter(
        "logship_syslog_connect_failures_total",
        "Failed connects and TLS handshakes (including certificate verification)");
    write_failures_ = &metrics.counter("logship_syslog_write_failures_total",
        "Writes that failed (connection broken)");
    relp_refused_ = &metrics.counter(
        "logship_syslog_relp_refused_total",
        "RELP transactions the server answered with an error (the delivery is retried)");
    relp_protocol_errors_ = &metrics.counter(
        "logship_syslog_relp_protocol_errors_total",
        "RELP sessions dropped for garbage, bad framing or replies out of order");
    return conn_.init().with_context("syslog output " + name_);
  }

  void deliver(std::span<const SharedBatch> batches, DeliverDone done) override {
    if (relp_) {
      deliver_relp(batches, done);
      return;
    }
    if (conn_.connected() && conn_.peer_closed()) {
      log_.info("server closed the connection; reconnecting");
      conn_.close();
    }
    if (!conn_.connected() && !connect(done)) return;
    out_.clear();
    uint64_t pending = 0;
    for (const auto& b : batches) {
      const SourceInfo& src = b->source();
      for (const Event& e : b->events()) {
        if (transport_ == syslog::Transport::kUdp) {
          msg_.clear();
          if (encoder_.encode(msg_, e, src)) truncated_->fetch_add(1, std::memory_order_relaxed);
          if (!write(msg_, done)) return;
          sent_->fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        if (octet_counting_) {
          msg_.clear();
          if (encoder_.encode(msg_, e, src)) truncated_->fetch_add(1, std::memory_order_relaxed);
          char len[24];
          auto r = std::to_chars(len, len + sizeof len, msg_.size());
          out_.append(len, static_cast<std::size_t>(r.ptr - len));
          out_.push_back(' ');
          out_.append(msg_);
        } else {
          if (encoder_.encode(out_, e, src)) truncated_->fetch_add(1, std::memory_order_relaxed);
          out_.push_back('\n');
        }
        ++pending;
        if (out_.size() >= kWriteChunk) {
          if (!write(out_, done)) return;
          sent_->fetch_add(pending, std::memory_order_relaxed);
          pending = 0;
          out_.clear();
        }
      }
    }
    if (!out_.empty()) {
      if (!write(out_, done)) return;
      sent_->fetch_add(pending, std::memory_order_relaxed);
    }
    if (out_.capacity() > 4 * kWriteChunk) std::string().swap(out_);
    done(DeliveryResult::delivered());
  }

  void stop() override {
    if (relp_) {
      relp_client_.close(std::min<Millis>(o_.timeout, Millis(2000)));
    } else {
      conn_.close_gracefully(std::min<Millis>(o_.timeout, Millis(2000)));
    }
    if (sent_ != nullptr) {
      std::string relp_stats;
      if (relp_) {
        relp_stats = log::kv("relp_refused", relp_refused_->load()) +
                     log::kv("relp_protocol_errors", relp_protocol_errors_->load());
      }
      log_.info("output stopped",
                log::kv("sent", sent_->load()) + log::kv("truncated", truncated_->load()) +
                    log::kv("connect_failures", connect_failures_->load()) +
                    log::kv("write_failures", write_failures_->load()) + relp_stats);
    }
  }

 private:
  static constexpr std::size_t kWriteChunk = 256 * 1024;

  bool connect(DeliverDone& done) {
    Status s = conn_.connect(o_.timeout);
    if (s.is_ok() && relp_) s = relp_client_.open();
    if (!s.is_ok()) {
      connect_failures_->fetch_add(1, std::memory_order_relaxed);
      if (relp_) count_relp_failure();
      log_.warn(connect_log_, "cannot connect", log::kv("error", s.message()));
      done(DeliveryResult::retry(s.message()));
      return false;
    }
    log_.info("connected",
              log::kv("host", o_.host) + log::kv("transport", config::enum_name(o_.transport)));
    return true;
  }

  void count_relp_failure() {
    switch (relp_client_.last_failure()) {
      case syslog::RelpClient::Failure::kRefused:
        relp_refused_->fetch_add(1, std::memory_order_relaxed);
        break;
      case syslog::RelpClient::Failure::kProtocol:
        relp_protocol_errors_->fetch_add(1, std::memory_order_relaxed);
        break;
      default:
        break;
    }
  }

  void deliver_relp(std::span<const SharedBatch> batches, DeliverDone& done) {
    // The runner retries the same batch objects first in line, so a live weak_ptr to the same
    // object identifies a retry (a weak_ptr also keeps the address from being reused).
    std::size_t skip = 0;
    if (!batches.empty()) {
      SharedBatch first = resume_batch_.lock();
      if (first != nullptr && first.get() == batches.front().get()) skip = resume_acked_;
    }
    resume_batch_.reset();
    resume_acked_ = 0;
    if (relp_client_.ready() && !relp_client_.check_idle()) {
      count_relp_failure();
      log_.info("RELP session ended by the server; reconnecting");
    }
    if (!relp_client_.ready() && !connect(done)) {
      resume_batch_ = batches.empty() ? nullptr : batches.front();
      resume_acked_ = skip;
      return;
    }
    relp_client_.reset_acked();
    Status s = Status::ok();
    std::size_t index = 0;
    for (const auto& b : batches) {
      const SourceInfo& src = b->source();
      for (const Event& e : b->events()) {
        if (index++ < skip) continue;
        msg_.clear();
        if (encoder_.encode(msg_, e, src)) truncated_->fetch_add(1, std::memory_order_relaxed);
        s = relp_client_.send(msg_);
        if (!s.is_ok()) break;
      }
      if (!s.is_ok()) break;
    }
    if (s.is_ok()) s = relp_client_.finish();
    const uint64_t acked = relp_client_.acked();
    sent_->fetch_add(acked, std::memory_order_relaxed);
    if (!s.is_ok()) {
      write_failures_->fetch_add(1, std::memory_order_relaxed);
      count_relp_failure();
      resume_batch_ = batches.empty() ? nullptr : batches.front();
      resume_acked_ = skip + acked;
      log_.warn(failure_log_, "RELP delivery failed; unacknowledged messages will be resent",
                log::kv("error", s.message()) + log::kv("acknowledged", resume_acked_));
      done(DeliveryResult::retry(s.message()));
      return;
    }
    done(DeliveryResult::delivered());
  }

  static syslog::EncoderSettings settings(const SyslogOutputOptions& o, syslog::Transport t,
                                          bool relp) {
    syslog::EncoderSettings s;
    s.format = o.format;
    s.facility = std::max(0, syslog::facility_from_name(o.facility));
    s.default_severity = std::max(0, syslog::severity_from_word(o.severity));
    s.hostname = o.hostname.empty() ? local_hostname() : o.hostname;
    s.app_name = syslog::ValueSpec::parse(o.app_name);
    s.procid = syslog::ValueSpec::parse(o.procid);
    s.msgid = syslog::ValueSpec::parse(o.msgid);
    s.severity_field = o.severity_field;
    s.sd_id = o.sd_id;
    s.sd_tags = o.sd_tags;
    s.sd_fields = o.sd_fields;
    s.bom = o.bom;
    s.replace_newlines = !relp && t != syslog::Transport::kUdp && o.framing == Framing::kLf;
    s.max_size = o.max_message_size.bytes != 0 ? o.max_message_size.bytes
                 : t == syslog::Transport::kUdp ? 2048
                                                : 8096;
    return s;
  }

  bool write(std::string_view data, DeliverDone& done) {
    Status s = conn_.write(data, o_.timeout);
    if (s.is_ok()) return true;
    write_failures_->fetch_add(1, std::memory_order_relaxed);
    done(DeliveryResult::retry(s.message()));
    return false;
  }

  SyslogOutputOptions o_;
  bool relp_;
  syslog::Transport transport_;
  bool octet_counting_;
  syslog::Connection conn_;
  syslog::RelpClient relp_client_;
  std::weak_ptr<const Batch> resume_batch_;
  uint64_t resume_acked_ = 0;
  syslog::Encoder encoder_;
  std::string name_;
  std::string msg_;
  std::string out_;
  std::atomic<uint64_t>* sent_ = nullptr;
  std::atomic<uint64_t>* truncated_ = nullptr;
  std::atomic<uint64_t>* connect_failures_ = nullptr;
  std::atomic<uint64_t>* write_failures_ = nullptr;
  std::atomic<uint64_t>* relp_refused_ = nullptr;
  std::atomic<uint64_t>* relp_protocol_errors_ = nullptr;
  ComponentLog log_{PluginContext{PluginKind::kOutput, "", "syslog"}};   // named at start
  log::RateLimit connect_log_{3, std::chrono::seconds(10)};
  log::RateLimit failure_log_{3, std::chrono::seconds(10)};
};

}  // namespace

const PluginInfo& syslog_output() {
  static const PluginInfo info{
      PluginKind::kOutput, "syslog",
      "Syslog (RFC 5424 / 3164) over UDP, TCP, TLS or RELP, container metadata as structured "
      "data.",
      &schema_of<SyslogOutputOptions>, nullptr, nullptr,
      &bind_output<SyslogOutputOptions, SyslogOutput>};
  return info;
}

}  // namespace logship::plugins
