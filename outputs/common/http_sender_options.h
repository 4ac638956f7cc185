#pragma once
// The options every output built on HttpBatchOutput shares (concurrency, request size, TLS,
// timeouts, resends), declared once: an output's options struct derives from SenderOptions and
// its schema calls add_sender_options.
#include <string>
#include <string_view>
#include <type_traits>

#include "config/enum_option.h"
#include "config/option_schema.h"
#include "config/option_types.h"
#include "outputs/common/http_batch_output.h"

namespace logship::plugins::httpbatch {

// A request body's Content-Encoding.
enum class Compression { kGzip, kNone };
constexpr config::EnumNames<Compression, 2> enum_names(Compression) {
  return {{{"gzip", Compression::kGzip}, {"none", Compression::kNone}}};
}

struct SenderOptions {
  int64_t max_in_flight = 2;
  int64_t batch_max_events = 2000;
  config::ByteSize batch_max_bytes{4u << 20};
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  bool tls_verify = true;
  config::Millis timeout{30000};
  config::Millis connect_timeout{5000};
  int64_t retries = 5;
  config::Millis retry_initial{200};
  config::Millis retry_max{30000};

  // Copies these options into the sender's settings.
  void apply(Settings* s) const {
    s->max_in_flight = max_in_flight;
    s->batch_max_events = batch_max_events;
    s->batch_max_bytes = batch_max_bytes.bytes;
    s->tls_ca_file = tls_ca_file;
    s->tls_cert_file = tls_cert_file;
    s->tls_key_file = tls_key_file;
    s->tls_verify = tls_verify;
    s->timeout = timeout;
    s->connect_timeout = connect_timeout;
    s->retries = retries;
    s->retry_initial = retry_initial;
    s->retry_max = retry_max;
  }
};

// `records`: what a request carries ("events", "log records"); `resent`: which answers are
// resent ("429/502/503/504", "a resend status").
template <class O>
void add_sender_options(config::OptionSchema<O>& s, std::string_view records,
                        std::string_view resent) {
  static_assert(std::is_base_of_v<SenderOptions, O>);
  using B = SenderOptions;
  auto m = [](auto B::*p) {
    return static_cast<std::remove_reference_t<decltype(std::declval<B&>().*p)> O::*>(p);
  };
  s.add("max_in_flight", m(&B::max_in_flight), "Requests in flight at once (one connection each).",
        config::in_range(1, 64))
      .add("batch_max_events", m(&B::batch_max_events), "Most " + std::string(records) + " per request.",
           config::in_range(1, 1000000))
      .add("batch_max_bytes", m(&B::batch_max_bytes),
           "About the largest uncompressed request; larger deliveries are split.",
           config::at_least(config::ByteSize(1024), "1KiB"))
      .add("tls_ca_file", m(&B::tls_ca_file),
           "PEM CA bundle to verify the receiver with; empty = the system trust store.")
      .add("tls_cert_file", m(&B::tls_cert_file), "PEM client certificate (chain).")
      .add("tls_key_file", m(&B::tls_key_file), "PEM private key of the client certificate.")
      .add("tls_verify", m(&B::tls_verify),
           "Verify the receiver's certificate and host name. Turn off only for tests.")
      .add("timeout", m(&B::timeout), "Time to send a request and read its response.",
           config::at_least(config::Millis(100), "100ms"))
      .add("connect_timeout", m(&B::connect_timeout), "Time to connect (and TLS handshake).",
           config::at_least(config::Millis(100), "100ms"))
      .add("retries", m(&B::retries),
           "Resends of a request answered " + std::string(resent) +
               " before the delivery is handed back to the core's retry (which never gives up).",
           config::in_range(0, 1000))
      .add("retry_initial", m(&B::retry_initial),
           "First backoff when the server gives no Retry-After (doubles each resend; the "
           "wait is drawn from a tenth of it up to it).",
           config::at_least(config::Millis(1), "1ms"))
      .add("retry_max", m(&B::retry_max), "Longest wait between resends, Retry-After included.",
           config::at_least(config::Millis(1), "1ms"));
}

}  // namespace logship::plugins::httpbatch
