#include "inputs/common/listen_endpoint.h"

#include <charconv>

namespace logship::plugins {

bool parse_listen_endpoint(const std::string& s, boost::asio::ip::address* addr, uint16_t* port) {
  std::size_t colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  *addr = boost::asio::ip::make_address(host, ec);
  if (ec) return false;
  unsigned p = 0;
  const char* b = s.data() + colon + 1;
  const char* e = s.data() + s.size();
  auto r = std::from_chars(b, e, p);
  if (r.ec != std::errc() || r.ptr != e || p > 65535) return false;
  *port = static_cast<uint16_t>(p);
  return true;
}

}  // namespace logship::plugins
