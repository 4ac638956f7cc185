#pragma once
// The TLS context of a server input (syslog, otlp): TLS 1.2 or later, the server's certificate
// chain and key, and, with a CA file, clients must present a certificate signed by it.
#include <optional>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "daemon/core/status.h"

namespace logship::plugins {

struct ServerTlsFiles {
  std::string cert_file;   // PEM certificate chain
  std::string key_file;    // PEM private key
  std::string ca_file;     // PEM CAs of client certificates; empty = no client certificates
};

// Makes the context into *out; an invalid Status names the option and file that failed.
Status make_server_tls(const ServerTlsFiles& f, std::optional<boost::asio::ssl::context>* out);

}  // namespace logship::plugins
