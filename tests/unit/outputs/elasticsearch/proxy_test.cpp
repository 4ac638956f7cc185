// Choosing a node's proxy: the option, the environment as curl reads it, NO_PROXY.
#include <gtest/gtest.h>

#include "outputs/elasticsearch/proxy.h"

namespace logship::plugins::es {
namespace {

ProxySettings env(std::string http, std::string https, std::string no_proxy) {
  ProxySettings s;
  s.http_proxy = std::move(http);
  s.https_proxy = std::move(https);
  s.no_proxy = std::move(no_proxy);
  return s;
}

TEST(ProxyTest, TheEnvironmentPicksThePerSchemeProxy) {
  ProxySettings s = env("http://plain:3128", "http://user:secret@tunnel:8080/", "");
  auto r = proxy_for(false, "es", "9200", s);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  auto p = r.value();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->host, "plain");
  EXPECT_EQ(p->port, "3128");
  EXPECT_TRUE(p->authorization.empty());
  r = proxy_for(true, "es", "9200", s);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  p = r.value();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->display, "http://tunnel:8080");   // no credentials in what is logged
  EXPECT_EQ(p->authorization, "Basic dXNlcjpzZWNyZXQ=");
  r = proxy_for(true, "es", "9200", env("http://plain:3128", "", ""));
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(r.value());
}

TEST(ProxyTest, TheOptionWinsNoneDisablesAndCredentialsComeFromTheFile) {
  ProxySettings s = env("http://envproxy:1", "http://envproxy:1", "");
  s.option = "http://[::1]:3128";
  s.credentials = "u:p";
  auto r = proxy_for(true, "es.example.com", "443", s);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  auto p = r.value();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->host, "::1");
  EXPECT_EQ(p->display, "http://[::1]:3128");
  EXPECT_EQ(p->authorization, "Basic dTpw");
  s.option = "none";
  r = proxy_for(true, "es.example.com", "443", s);
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(r.value());
  Result<Proxy> out = parse_proxy_url("http://u:p@proxy:3128", false);
  ASSERT_FALSE(out.is_ok());
  EXPECT_NE(out.status().message().find("proxy_credentials_file"), std::string::npos);
  EXPECT_FALSE(parse_proxy_url("https://proxy:3128", false).is_ok());
  EXPECT_FALSE(parse_proxy_url("socks5://proxy:1080", false).is_ok());
  out = parse_proxy_url("proxy.local", false);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(out.value().port, "80");
}

TEST(ProxyTest, NoProxyMatchesNamesSubdomainsAddressesAndPorts) {
  const char* list = " localhost, .internal.example ,10.0.0.7, es.example.com:9200, [::1]";
  EXPECT_TRUE(no_proxy_matches(list, "localhost", "9200"));
  EXPECT_TRUE(no_proxy_matches(list, "LOCALHOST", "9200"));
  EXPECT_TRUE(no_proxy_matches(list, "a.b.internal.example", "9200"));
  EXPECT_TRUE(no_proxy_matches(list, "internal.example", "9200"));
  EXPECT_FALSE(no_proxy_matches(list, "notinternal.example", "9200"));
  EXPECT_TRUE(no_proxy_matches(list, "10.0.0.7", "80"));
  EXPECT_FALSE(no_proxy_matches(list, "10.0.0.70", "80"));
  EXPECT_TRUE(no_proxy_matches(list, "es.example.com", "9200"));
  EXPECT_FALSE(no_proxy_matches(list, "es.example.com", "443"));
  EXPECT_TRUE(no_proxy_matches(list, "::1", "9200"));
  EXPECT_TRUE(no_proxy_matches("*", "anything", "1"));
  EXPECT_FALSE(no_proxy_matches("", "anything", "1"));
  auto r = proxy_for(false, "10.0.0.7", "9200", env("http://p:1", "", list));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_FALSE(r.value());
}

}  // namespace
}  // namespace logship::plugins::es
