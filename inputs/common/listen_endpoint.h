#pragma once
// The address a server input listens on, as its options spell it.
#include <cstdint>
#include <string>

#include <boost/asio/ip/address.hpp>

namespace logship::plugins {

// "host:port", "[v6]:port" or ":port" (all addresses); "localhost" is 127.0.0.1. False on
// anything else.
bool parse_listen_endpoint(const std::string& s, boost::asio::ip::address* addr, uint16_t* port);

}  // namespace logship::plugins
