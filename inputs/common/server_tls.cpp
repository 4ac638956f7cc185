#include "inputs/common/server_tls.h"

#include <boost/system/system_error.hpp>

namespace logship::plugins {

Status make_server_tls(const ServerTlsFiles& f, std::optional<boost::asio::ssl::context>* out) {
  namespace ssl = boost::asio::ssl;
  out->emplace(ssl::context::tls_server);
  ssl::context& c = **out;
  c.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  // Which option's file is being loaded, for the error.
  const char* option = "tls_cert_file";
  const std::string* file = &f.cert_file;
  try {
    c.use_certificate_chain_file(f.cert_file);
    option = "tls_key_file";
    file = &f.key_file;
    c.use_private_key_file(f.key_file, ssl::context::pem);
    if (!f.ca_file.empty()) {
      option = "tls_ca_file";
      file = &f.ca_file;
      c.load_verify_file(f.ca_file);
      c.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
  } catch (const boost::system::system_error& e) {
    out->reset();
    return Status::invalid(std::string(option) + " " + *file + ": " + e.code().message());
  }
  return Status::ok();
}

}  // namespace logship::plugins
