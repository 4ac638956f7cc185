// The ecs and otel documents, field by field, for what each input hands the outputs: docker
// (json-file), docker_plugin, cri, journald and syslog; and the logship layout unchanged.
#include "outputs/common/document_encoder.h"

#include <gtest/gtest.h>

#include "inputs/docker/metadata.h"
#include "inputs/docker_plugin/protocol.h"
#include "inputs/journald/entry_mapper.h"

namespace logship::plugins::doc {
namespace {

// 2024-05-01T10:00:00.123456789Z
constexpr int64_t kTime = 1714557600123456789;
#define AGENT "\"agent\":{\"type\":\"logship\",\"version\":\"" LOGSHIP_VERSION "\"}"
#define ECS "\"ecs\":{\"version\":\"8.17.0\"}"

HostIdentity node() { return HostIdentity{"node-1", "", ""}; }

DocumentOptions options(std::string schema) {
  DocumentOptions o(std::move(schema));
  return o;
}

std::string encode(DocumentEncoder& enc, const Batch& b) {
  std::string out;
  enc.begin_source(b.source());
  for (const Event& e : b.events()) {
    enc.append(out, e);
    out.push_back('\n');
  }
  return out;
}

Event& add(Batch& b, std::string_view msg, Stream stream = Stream::kStdout) {
  Event& e = b.add_event();
  e.time_ns = kTime;
  e.stream = stream;
  e.message = b.copy(msg);
  return e;
}

// A Compose service behind Traefik, read from its json-file.
std::shared_ptr<const SourceInfo> docker_source() {
  docker::ContainerMeta m;
  m.id = "3f4c1b2a9d8e";
  m.name = "shop-api-1";
  m.image = "shop/api:1.4";
  m.hostname = "3f4c1b2a9d8e";
  m.labels = {{"com.docker.compose.project", "shop"},
              {"com.docker.compose.service", "api"},
              {"traefik.http.routers.x.tls", "true"},
              {"traefik.http.routers.x.tls.certresolver", "le"}};
  return docker::make_source("docker", "ino:1", m,
                             "/var/lib/docker/containers/3f4c1b2a9d8e/3f4c1b2a9d8e-json.log");
}

// What the json parser makes of {"level":"warn","trace.id":"t1","error":{"type":"E"},
// "user_id":42,"log.logger":"db"}.
void add_app_fields(Batch& b, Event& e) {
  e.fields.push_back(Field{"level", Value::string("warn")});
  e.fields.push_back(Field{"trace.id", Value::string("t1")});
  e.fields.push_back(Field{"error", Value::raw_json(b.copy("{\"type\":\"E\"}"))});
  e.fields.push_back(Field{"user_id", Value::integer(42)});
  e.fields.push_back(Field{"log.logger", Value::string("db")});
}

TEST(EcsDocument, DockerContainerWithLabelsAndJsonAppFields) {
  auto src = docker_source();
  Batch b(src);
  add_app_fields(b, add(b, "payment failed"));
  add(b, "plain line", Stream::kStderr);
  DocumentEncoder enc(options("ecs"), HostIdentity{"node-1", "m-1", ""});
  EXPECT_EQ(encode(enc, b),
            "{\"@timestamp\":\"2024-05-01T10:00:00.123456789Z\",\"message\":\"payment failed\","
            AGENT ","
            "\"container\":{\"id\":\"3f4c1b2a9d8e\",\"image\":{\"name\":\"shop/api:1.4\"},"
            "\"labels\":{\"com_docker_compose_project\":\"shop\","
            "\"com_docker_compose_service\":\"api\",\"traefik_http_routers_x_tls\":\"true\","
            "\"traefik_http_routers_x_tls_certresolver\":\"le\"},\"name\":\"shop-api-1\"},"
            ECS ","
            "\"error\":{\"type\":\"E\"},"
            "\"host\":{\"id\":\"m-1\",\"name\":\"node-1\"},"
            "\"log\":{\"file\":{\"path\":\"/var/lib/docker/containers/3f4c1b2a9d8e/"
            "3f4c1b2a9d8e-json.log\"},\"level\":\"warn\",\"logger\":\"db\"},"
            "\"stream\":\"stdout\",\"trace\":{\"id\":\"t1\"},\"user_id\":42}\n"
            "{\"@timestamp\":\"2024-05-01T10:00:00.123456789Z\",\"message\":\"plain line\","
            AGENT ","
            "\"container\":{\"id\":\"3f4c1b2a9d8e\",\"image\":{\"name\":\"shop/api:1.4\"},"
            "\"labels\":{\"com_docker_compose_project\":\"shop\","
            "\"com_docker_compose_service\":\"api\",\"traefik_http_routers_x_tls\":\"true\","
            "\"traefik_http_routers_x_tls_certresolver\":\"le\"},\"name\":\"shop-api-1\"},"
            ECS ","
            "\"host\":{\"id\":\"m-1\",\"name\":\"node-1\"},"
            "\"log\":{\"file\":{\"path\":\"/var/lib/docker/containers/3f4c1b2a9d8e/"
            "3f4c1b2a9d8e-json.log\"}},"
            "\"stream\":\"stderr\"}\n");
}

TEST(EcsDocument, OtherAppFieldsUnderOneObjectAndEcsFieldsInPlace) {
  auto src = docker_source();
  Batch b(src);
  Event& e = add(b, "m", Stream::kNone);
  add_app_fields(b, e);
  e.fields.push_back(Field{"req.path", Value::string("/pay")});
  e.fields.push_back(Field{"host", Value::string("app-7")});
  DocumentOptions o = options("ecs");
  o.fields_under = "app";
  o.labels.include = {"com.docker.compose.*"};
  o.labels.exclude = {"*.project"};
  DocumentEncoder enc(o, node());
  EXPECT_EQ(encode(enc, b),
            "{\"@timestamp\":\"2024-05-01T10:00:00.123456789Z\",\"message\":\"m\","
            AGENT ","
            "\"app\":{\"host\":\"app-7\",\"req\":{\"path\":\"/pay\"},\"user_id\":42},"
            "\"container\":{\"id\":\"3f4c1b2a9d8e\",\"image\":{\"name\":\"shop/api:1.4\"},"
            "\"labels\":{\"com_docker_compose_service\":\"api\"},\"name\":\"shop-api-1\"},"
            ECS ","
            "\"error\":{\"type\":\"E\"},"
            "\"host\":{\"name\":\"node-1\"},"
            "\"log\":{\"file\":{\"path\":\"/var/lib/docker/containers/3f4c1b2a9d8e/"
            "3f4c1b2a9d8e-json.log\"},\"level\":\"warn\",\"logger\":\"db\"},"
            "\"trace\":{\"id\":\"t1\"}}\n");
}

TEST(EcsDocument, AppFieldsAtTopLevelNeverBreakTheSchemasObjects) {
  auto src = std::make_shared<SourceInfo>();
  src->tags.push_back(Tag{"container_name", ValueType::kString, "c"});
  Batch b(src);
  Event& e = add(b, "m", Stream::kNone);
  e.fields.push_back(Field{"host", Value::string("app-7")});       // an object of the schema
  e.fields.push_back(Field{"message", Value::string("again")});    // written already
  e.fields.push_back(Field{"level", Value::string("info")});
  e.fields.push_back(Field{"log.level", Value::string("INFO")});   // same place: the first wins
  e.fields.push_back(Field{"error", Value::string("boom")});
  e.fields.push_back(Field{"parse_error", Value::string("not json")});
  DocumentEncoder enc(options("ecs"), node());
  EXPECT_EQ(encode(enc, b),
            "{\"@timestamp\":\"2024-05-01T10:00:00.123456789Z\",\"message\":\"m\"," AGENT ","
            "\"container\":{\"name\":\"c\"}," ECS ",\"error\":{\"message\":\"boom\"},"
            "\"host\":{\"name\":\"node-1\"},\"log\":{\"level\":\"info\"}}\n");
}

TEST(EcsDocument, DockerPluginSource) {
  docker_plugin::ContainerInfo info;
  info.id = "9a8b7c";
  info.name = "web";
  info.image = "nginx:1.25";
  info.labels = {{"com.docker.compose.project", "site"}, {"org.opencontainers.image.title", "n"}};
  info.log_opts = {{"logship-parser", "json"}, {"max-size", "10m"}};
  auto src = docker_plugin::make_source("plugin", "docker_plugin:9a8b7c", info);
  Batch b(src);
  add(b, "GET /");
  DocumentEncoder enc(options("ecs"), node());
  EXPECT_EQ(encode(enc, b),
            "{\"@timestamp\":\"2024-05-01T10:00:00.123456789Z\",\"message\":\"GET /\"," AGENT ","
            "\"container\":{\"id\":\"9a8b7c\",\"image\":{\"name\":\"nginx:1.25\"},"
            "\"labels\":{\"com_docker_compose_project\":\"site\","
            "\"org_opencontainers_image_title\":\"n\",\"logship_parser\":\"json\"},"
            "\"name\":\"web\"}," ECS ",\"host\":{\"name\":\"node-1\"},\"stream\":\"stdout\"}\n");
}

TEST(EcsDocument, CriPodContainerAsFilebeatsKubernetesFields) {
  docker::ContainerMeta m;
  ASSERT_TRUE(docker::parse_cri_pod_dir("shop_api-5d9f_0f1e2d3c", "api", &m));
  auto src = docker::make_source("pods", "shop_api-5d9f_0f1e2d3c/api", m,
                                 "/var/log/pods/shop_api-5d9f_0f1e2d3c/api/0.log");
  Batch b(src);
  add(b, "ready", Stream::kStderr);
  DocumentEncoder enc(options("ecs"), HostIdentity{"worker-2", "", "worker-2"});
  EXPECT_EQ(encode(enc, b),
            "{\"@timestamp\":\"2024-05-01T10:00:00.123456789Z\",\"message\":\"ready\"," AGENT ","
            "\"container\":{\"name\":\"api\"}," ECS ",\"host\":{\"name\":\"worker-2\"},"
            "\"kubernetes\":{\"container\":{\"name\":\"api\"},\"namespace\":\"shop\","
            "\"node\":{\"name\":\"worker-2\"},\"pod\":{\"name\":\"api-5d9f\","
            "\"uid\":\"0f1e2d3c\"}},"
            "\"log\":{\"file\":{\"path\":\"/var/log/pods/shop_api-5d9f_0f1e2d3c/api/0.log\"}},"
            "\"stream\":\"stderr\"}\n");
}

// One journal entry as sd-journal hands it out.
class FakeEntry final : public journald::EntrySource {
 public:
  explicit FakeEntry(std::vector<std::string> items) : items_(std::move(items)) {}
  void restart_data() override { i_ = 0; }
  bool next_data(std::string_view* item) override {
    if (i_ >= items_.size()) return false;
    *item = items_[i_++];
    return true;
  }
  uint64_t realtime_usec() const override { return kTime / 1000; }
  std::string cursor() const override { return "c"; }

 private:
  std::vector<std::string> items_;
  std::size_t i_ = 0;
};

TEST(EcsDocument, JournaldEntriesOfAServiceAndOfADockerContainer) {
  Batch b(std::make_shared<SourceInfo>());
  journald::EntryMapper mapper(journald::MapperOptions{});
  FakeEntry service({"MESSAGE=started", "PRIORITY=6", "SYSLOG_IDENTIFIER=sshd",
                     "_SYSTEMD_UNIT=ssh.service", "_PID=812", "_HOSTNAME=box", "_BOOT_ID=b1"});
  FakeEntry container({"MESSAGE=oops", "PRIORITY=3", "CONTAINER_ID_FULL=3f4c", "CONTAINER_ID=3f",
                       "CONTAINER_NAME=shop-api-1", "IMAGE_NAME=shop/api:1.4",
                       "CONTAINER_TAG=api", "_HOSTNAME=box"});
  ASSERT_TRUE(mapper.map(service, b, SteadyClock::now()));
  ASSERT_TRUE(mapper.map(container, b, SteadyClock::now()));
  DocumentEncoder enc(options("ecs"), node());
  EXPECT_EQ(encode(enc, b),
            "{\"@timestamp\":\"2024-05-01T10:00:00.123456000Z\",\"message\":\"started\"," AGENT ","
            ECS ",\"host\":{\"boot\":{\"id\":\"b1\"},\"hostname\":\"box\",\"name\":\"node-1\"},"
            "\"log\":{\"level\":\"info\",\"syslog\":{\"appname\":\"sshd\","
            "\"severity\":{\"name\":\"info\"}}},\"process\":{\"pid\":812},"
            "\"systemd\":{\"unit\":\"ssh.service\"}}\n"
            "{\"@timestamp\":\"2024-05-01T10:00:00.123456000Z\",\"message\":\"oops\"," AGENT ","
            "\"container\":{\"id\":\"3f4c\",\"image\":{\"name\":\"shop/api:1.4\"},"
            "\"log\":{\"tag\":\"api\"},\"name\":\"shop-api-1\"}," ECS ","
            "\"host\":{\"hostname\":\"box\",\"name\":\"node-1\"},"
            "\"log\":{\"level\":\"err\",\"syslog\":{\"severity\":{\"name\":\"err\"}}},"
            "\"stream\":\"stderr\"}\n");
}

TEST(EcsDocument, SyslogMessageAsTheSyslogInputMapsIt) {
  auto src = std::make_shared<SourceInfo>();
  src->input = "syslog";
  src->tags.push_back(Tag{"source_address", ValueType::kString, "10.0.0.9:51000"});
  Batch b(src);
  // The fields syslog_input.cpp adds for <165>1 ... router1 bgpd 77 ID47 [origin@1 ip="10.1.1.1"]
  Event& e = add(b, "peer down", Stream::kNone);
  e.fields.push_back(Field{"facility", Value::string("local4")});
  e.fields.push_back(Field{"severity", Value::string("notice")});
  e.fields.push_back(Field{"hostname", Value::string("router1")});
  e.fields.push_back(Field{"appname", Value::string("bgpd")});
  e.fields.push_back(Field{"procid", Value::string("77")});
  e.fields.push_back(Field{"msgid", Value::string("ID47")});
  e.fields.push_back(Field{"sd.origin@1.ip", Value::string("10.1.1.1")});
  DocumentEncoder enc(options("ecs"), node());
  EXPECT_EQ(encode(enc, b),
            "{\"@timestamp\":\"2024-05-01T10:00:00.123456789Z\",\"message\":\"peer down\"," AGENT
            "," ECS ",\"host\":{\"hostname\":\"router1\",\"name\":\"node-1\"},"
            "\"log\":{\"level\":\"notice\",\"source\":{\"address\":\"10.0.0.9:51000\"},"
            "\"syslog\":{\"appname\":\"bgpd\",\"facility\":{\"name\":\"local4\"},"
            "\"msgid\":\"ID47\",\"procid\":\"77\",\"severity\":{\"name\":\"notice\"},"
            "\"structured_data\":{\"origin@1\":{\"ip\":\"10.1.1.1\"}}}}}\n");
}

TEST(OtelDocument, DockerContainerAsResourceAndAttributes) {
  auto src = docker_source();
  Batch b(src);
  Event& e = add(b, "payment failed");
  e.fields.push_back(Field{"level", Value::string("warn")});
  e.fields.push_back(Field{"trace_id", Value::string("t1")});
  e.fields.push_back(Field{"user_id", Value::integer(42)});
  DocumentOptions o = options("otel");
  o.labels.exclude = {"traefik.*"};
  DocumentEncoder enc(o, node());
  EXPECT_EQ(encode(enc, b),
            "{\"@timestamp\":\"2024-05-01T10:00:00.123456789Z\",\"body\":\"payment failed\","
            "\"attributes\":{\"log.file.path\":\"/var/lib/docker/containers/3f4c1b2a9d8e/"
            "3f4c1b2a9d8e-json.log\",\"log.iostream\":\"stdout\",\"user_id\":42},"
            "\"resource\":{\"attributes\":{\"container.id\":\"3f4c1b2a9d8e\","
            "\"container.image.name\":\"shop/api:1.4\","
            "\"container.label.com_docker_compose_project\":\"shop\","
            "\"container.label.com_docker_compose_service\":\"api\","
            "\"container.name\":\"shop-api-1\",\"host.name\":\"node-1\"}},"
            "\"severity_text\":\"warn\",\"trace_id\":\"t1\"}\n");
}

TEST(LogshipDocument, UnchangedByDefaultAndLabelsSelectable) {
  auto src = docker_source();
  Batch b(src);
  add_app_fields(b, add(b, "m"));
  std::string expected;
  json::append_event(expected, b.events()[0], *src);
  expected.push_back('\n');
  DocumentEncoder plain(options("logship"), node());
  EXPECT_EQ(encode(plain, b), expected);

  DocumentOptions o = options("logship");
  o.labels.exclude = {"traefik.*"};
  DocumentEncoder selected(o, node());
  EXPECT_EQ(encode(selected, b),
            "{\"timestamp\":\"2024-05-01T10:00:00.123456789Z\",\"stream\":\"stdout\","
            "\"message\":\"m\",\"container_id\":\"3f4c1b2a9d8e\",\"container_name\":\"shop-api-1\","
            "\"image\":\"shop/api:1.4\",\"hostname\":\"3f4c1b2a9d8e\",\"compose_project\":\"shop\","
            "\"compose_service\":\"api\",\"labels\":{\"com.docker.compose.project\":\"shop\","
            "\"com.docker.compose.service\":\"api\"},\"level\":\"warn\",\"trace.id\":\"t1\","
            "\"error\":{\"type\":\"E\"},\"user_id\":42,\"log.logger\":\"db\"}\n");
}

TEST(LabelPolicy, CapKeepsWholeLabelsAndDedotKeepsKeysDistinct) {
  Labels labels = {{"a.b", "1"}, {"a_b", "2"}, {"big", std::string(100, 'x')}, {"c", "3"}};
  EXPECT_EQ(LabelPolicy({}, {}, 0, true).apply(labels),
            (Labels{{"a_b", "1"}, {"big", std::string(100, 'x')}, {"c", "3"}}));
  EXPECT_EQ(LabelPolicy({}, {}, 10, false).apply(labels),
            (Labels{{"a.b", "1"}, {"a_b", "2"}, {"c", "3"}}));
  EXPECT_EQ(LabelPolicy({"a*"}, {"*_b"}, 0, false).apply(labels), (Labels{{"a.b", "1"}}));
  EXPECT_TRUE(LabelPolicy({}, {}, 0, false).keeps_all());
}

}  // namespace
}  // namespace logship::plugins::doc
