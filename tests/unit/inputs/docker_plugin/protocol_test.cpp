#include "inputs/docker_plugin/protocol.h"

#include <gtest/gtest.h>

namespace logship::docker_plugin {
namespace {

TEST(ProtocolTest, Rfc3339Nano) {
  int64_t ns = 0;
  ASSERT_TRUE(parse_rfc3339_ns("2023-11-14T22:13:20.123456789Z", &ns));
  EXPECT_EQ(ns, 1700000000123456789);
  ASSERT_TRUE(parse_rfc3339_ns("2023-11-14T22:13:20Z", &ns));
  EXPECT_EQ(ns, 1700000000000000000);
  ASSERT_TRUE(parse_rfc3339_ns("2023-11-14T22:13:20.5Z", &ns));
  EXPECT_EQ(ns, 1700000000500000000);
  ASSERT_TRUE(parse_rfc3339_ns("2023-11-15T00:13:20.000000001+02:00", &ns));
  EXPECT_EQ(ns, 1700000000000000001);
  ASSERT_TRUE(parse_rfc3339_ns("2023-11-14T17:13:20-05:00", &ns));
  EXPECT_EQ(ns, 1700000000000000000);
  ASSERT_TRUE(parse_rfc3339_ns("1970-01-01T00:00:00Z", &ns));
  EXPECT_EQ(ns, 0);
  ASSERT_TRUE(parse_rfc3339_ns("1969-12-31T23:59:59.9Z", &ns));
  EXPECT_EQ(ns, -100000000);
  // Go's zero time: no bound.
  ASSERT_TRUE(parse_rfc3339_ns("0001-01-01T00:00:00Z", &ns));
  EXPECT_EQ(ns, INT64_MIN);
  for (const char* bad : {"", "2023-11-14", "2023-11-14T22:13:20", "2023-13-14T22:13:20Z",
                          "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20Zjunk",
                          "2023-11-14 22:13:20Z", "2023-11-14T22:13:20+0200"}) {
    EXPECT_FALSE(parse_rfc3339_ns(bad, &ns)) << bad;
  }
}

TEST(ProtocolTest, StartLoggingTakesTheContainerInfoAndNeverTheEnv) {
  simdjson::dom::parser p;
  StartRequest r;
  const std::string body = R"({"File":"/run/docker/logging/abc","Info":{
      "Config":{"logship-parser":"json","mode":"non-blocking"},
      "ContainerID":"0123abcd","ContainerName":"/shop-api-1","ContainerEntrypoint":"/app",
      "ContainerArgs":["-v"],"ContainerImageID":"sha256:1","ContainerImageName":"shop/api:1.2",
      "ContainerCreated":"2026-01-01T00:00:00Z","ContainerEnv":["TOKEN=secret"],
      "ContainerLabels":{"com.docker.compose.project":"shop","com.docker.compose.service":"api",
                         "logship.parser":"logfmt"},
      "LogPath":"","DaemonName":"docker"}})"
                           "\n";
  ASSERT_TRUE(parse_start_logging(body, p, &r).is_ok());
  EXPECT_EQ(r.file, "/run/docker/logging/abc");
  EXPECT_EQ(r.info.id, "0123abcd");
  EXPECT_EQ(r.info.name, "shop-api-1");
  EXPECT_EQ(r.info.image, "shop/api:1.2");
  ASSERT_EQ(r.info.log_opts.size(), 2u);
  auto src = make_source("engine", "docker_plugin:0123abcd", r.info);
  EXPECT_EQ(src->find("container_id")->value, "0123abcd");
  EXPECT_EQ(src->find("container_name")->value, "shop-api-1");
  EXPECT_EQ(src->find("image")->value, "shop/api:1.2");
  EXPECT_EQ(src->find("compose_project")->value, "shop");
  EXPECT_EQ(src->find("compose_service")->value, "api");
  // --log-opt logship-parser overrides the container label logship.parser; other options are
  // not labels.
  EXPECT_EQ(*src->label("logship.parser"), "json");
  EXPECT_EQ(src->label("mode"), nullptr);
  EXPECT_EQ(src->labels.size(), 3u);
  std::string state = container_state_json(r.info, {r.file});
  EXPECT_EQ(state.find("secret"), std::string::npos);
  ContainerInfo back;
  std::vector<std::string> files;
  ASSERT_TRUE(parse_container_state(state, p, &back, &files));
  EXPECT_EQ(back.id, r.info.id);
  EXPECT_EQ(back.name, r.info.name);
  EXPECT_EQ(back.labels, r.info.labels);
  EXPECT_EQ(back.log_opts, r.info.log_opts);
  EXPECT_EQ(files, std::vector<std::string>{r.file});
}

TEST(ProtocolTest, BadRequestsGetAReason) {
  simdjson::dom::parser p;
  StartRequest s;
  EXPECT_NE(parse_start_logging("{\"File\":", p, &s).message().find("malformed JSON body"),
            std::string::npos);
  EXPECT_EQ(parse_start_logging("[]", p, &s).message(), "malformed request: body must be a JSON object");
  EXPECT_EQ(parse_start_logging(R"({"Info":{"ContainerID":"a"}})", p, &s).message(), "missing File");
  EXPECT_EQ(parse_start_logging(R"({"File":1,"Info":{"ContainerID":"a"}})", p, &s).message(),
            "File must be a string");
  EXPECT_EQ(parse_start_logging(R"({"File":"/f"})", p, &s).message(), "missing Info");
  EXPECT_EQ(parse_start_logging(R"({"File":"/f","Info":{"ContainerID":"../x"}})", p, &s).message(),
            "invalid Info.ContainerID");
  EXPECT_EQ(parse_start_logging(
                R"({"File":"/f","Info":{"ContainerID":"a","ContainerLabels":{"k":1}}})", p, &s).message(),
            "Info.ContainerLabels.k must be a string");
  std::string file;
  EXPECT_EQ(parse_stop_logging("{}", p, &file).message(), "missing File");
  ReadRequest r;
  EXPECT_EQ(parse_read_logs(R"({"Info":{"ContainerID":"a"},"Config":{"Tail":"x"}})", p, &r).message(),
            "Config.Tail must be an integer");
  EXPECT_EQ(parse_read_logs(R"({"Info":{"ContainerID":"a"},"Config":{"Since":"yesterday"}})", p,
                            &r).message(),
            "Config.Since is not RFC 3339");
}

TEST(ProtocolTest, ReadLogsConfig) {
  simdjson::dom::parser p;
  ReadRequest r;
  ASSERT_TRUE(parse_read_logs(R"({"Info":{"ContainerID":"a"},"Config":{"Since":"0001-01-01T00:00:00Z",
      "Until":"0001-01-01T00:00:00Z","Tail":-1,"Follow":true}})", p, &r).is_ok());
  EXPECT_EQ(r.since_ns, INT64_MIN);
  EXPECT_EQ(r.until_ns, INT64_MAX);
  EXPECT_EQ(r.tail, -1);
  EXPECT_TRUE(r.follow);
  ReadRequest q;
  ASSERT_TRUE(parse_read_logs(R"({"Info":{"ContainerID":"a"},"Config":{"Since":"2023-11-14T22:13:20Z",
      "Until":"2023-11-14T22:13:21Z","Tail":5}})", p, &q).is_ok());
  EXPECT_EQ(q.since_ns, 1700000000000000000);
  EXPECT_EQ(q.until_ns, 1700000001000000000);
  EXPECT_EQ(q.tail, 5);
  EXPECT_FALSE(q.follow);
}

TEST(ProtocolTest, ContainerIds) {
  EXPECT_TRUE(valid_container_id(std::string(64, 'a')));
  EXPECT_TRUE(valid_container_id("my-container_1.2"));
  EXPECT_FALSE(valid_container_id(""));
  EXPECT_FALSE(valid_container_id(".."));
  EXPECT_FALSE(valid_container_id("a/b"));
  EXPECT_FALSE(valid_container_id(std::string(129, 'a')));
}

}  // namespace
}  // namespace logship::docker_plugin
