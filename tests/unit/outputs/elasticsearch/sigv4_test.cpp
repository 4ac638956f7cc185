// SigV4 against AWS's published test suite (aws-sig-v4-test-suite): the inputs and expected
// signatures of get-vanilla, post-vanilla, get-vanilla-query, get-vanilla-query-order-key-case,
// get-vanilla-query-unreserved, get-header-value-trim and post-x-www-form-urlencoded, with the
// suite's credentials, region and service.
#include <gtest/gtest.h>

#include "outputs/elasticsearch/sigv4.h"

namespace logship::plugins::es {
namespace {

const AwsCredentials kCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", 0};
const std::string kEmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SigV4Signature sign(std::string_view method, std::string_view target,
                    std::vector<std::pair<std::string, std::string>> extra = {},
                    std::string_view body = "") {
  SigV4Request r;
  r.method = method;
  r.target = target;
  r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  for (auto& h : extra) r.headers.push_back(std::move(h));
  const std::string hash = sha256_hex(body);
  r.payload_sha256 = hash;
  return sigv4_sign(r, kCreds, "us-east-1", "service", "20150830T123600Z");
}

TEST(SigV4Test, GetVanilla) {
  SigV4Signature s = sign("GET", "/");
  EXPECT_EQ(s.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n" + kEmptyHash);
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(s.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Test, PostVanilla) {
  EXPECT_EQ(sign("POST", "/").signature,
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(SigV4Test, QueryParametersAreSortedAndEncoded) {
  EXPECT_EQ(sign("GET", "/?Param1=value1").signature,
            "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb");
  SigV4Signature s = sign("GET", "/?Param2=value2&Param1=value1");
  EXPECT_NE(s.canonical_request.find("\nParam1=value1&Param2=value2\n"), std::string::npos);
  EXPECT_EQ(s.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
  const std::string unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  EXPECT_EQ(sign("GET", "/?" + unreserved + "=" + unreserved).signature,
            "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197");
}

TEST(SigV4Test, HeaderValuesAreTrimmedAndInnerSpacesFolded) {
  SigV4Signature s = sign("GET", "/", {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}});
  EXPECT_NE(s.canonical_request.find("my-header1:value1\nmy-header2:\"a b c\"\n"), std::string::npos)
      << s.canonical_request;
  EXPECT_EQ(s.signature, "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
}

TEST(SigV4Test, PostWithABody) {
  SigV4Signature s = sign("POST", "/", {{"Content-Type", "application/x-www-form-urlencoded"}},
                          "Param1=value1");
  EXPECT_EQ(s.signature, "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

TEST(SigV4Test, TheBulkQueryOfTheOutputIsCanonicalizedAsAwsDoes) {
  // Commas and '*' are sent raw; AWS decodes and re-encodes every name and value.
  SigV4Signature s = sign("POST", "/_bulk?filter_path=errors,items.*.status&pipeline=a%20b");
  EXPECT_NE(s.canonical_request.find("\nfilter_path=errors%2Citems.%2A.status&pipeline=a%20b\n"),
            std::string::npos)
      << s.canonical_request;
}

TEST(SigV4Test, AmzDateAndCredentialsFile) {
  EXPECT_EQ(amz_date(1440938160), "20150830T123600Z");
  const char* file =
      "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key=secretdefault\n"
      "\n# comment\n[profile shipper]\naws_access_key_id=AKIDSHIP\n"
      "aws_secret_access_key = s/ecret+\naws_session_token = tok\n";
  Result<AwsCredentials> c = parse_aws_credentials_file(file, "shipper");
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c.value().access_key_id, "AKIDSHIP");
  EXPECT_EQ(c.value().secret_access_key, "s/ecret+");
  EXPECT_EQ(c.value().session_token, "tok");
  c = parse_aws_credentials_file(file, "default");
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c.value().access_key_id, "AKIDDEFAULT");
  EXPECT_TRUE(c.value().session_token.empty());
  EXPECT_FALSE(parse_aws_credentials_file(file, "other").is_ok());
  EXPECT_FALSE(parse_aws_credentials_file("[x]\naws_access_key_id=a\n", "x").is_ok());
}

}  // namespace
}  // namespace logship::plugins::es
