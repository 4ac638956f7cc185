#include "outputs/kafka/kafka_conf.h"

#include <utility>

namespace logship::plugins {

const config::OptionSchema<KafkaOptions>& KafkaOptions::schema() {
  using S = config::OptionSchema<KafkaOptions>;
  using config::ByteSize;
  using config::Millis;
  static const auto s = [] {
    S s;
    s.add("brokers", &KafkaOptions::brokers, "Bootstrap brokers, host:port each.")
          .add("topic", &KafkaOptions::topic,
               "Topic template: {name} takes a source tag (container_name, image, ...) or event "
               "field, %Y %m %d the event's UTC date. Substituted values keep only "
               "[A-Za-z0-9._-].")
          .add("key", &KafkaOptions::key,
               "Message key: none; field = the value of key_field; event_id = a deterministic "
               "hash of the source and the event's offset (same event, same key on re-sends).")
          .add("key_field", &KafkaOptions::key_field,
               "Tag or event field used as the key with key: field (container_id keeps one "
               "container's lines in one partition, in order).")
          .add("headers", &KafkaOptions::headers,
               "Message headers: header name -> tag or event field; absent values are omitted.")
          .add("format", &KafkaOptions::format,
               "Message value: json = the event as a JSON object; raw = the message alone.")
          .add("compression", &KafkaOptions::compression, "Batch compression codec.",
               config::one_of({"none", "gzip", "snappy", "lz4", "zstd"}))
          .add("acks", &KafkaOptions::acks,
               "Broker acknowledgement a delivery waits for: all (every in-sync replica), 1, 0.",
               config::one_of({"all", "1", "0"}))
          .add("idempotence", &KafkaOptions::idempotence,
               "Idempotent producer: broker-side retries never duplicate or reorder. Needs "
               "acks: all.")
          .add("message_timeout", &KafkaOptions::message_timeout,
               "How long librdkafka retries a message before the delivery fails back to the "
               "pipeline, which retries it again with backoff.",
               config::at_least(Millis(100), "100ms"))
          .add("linger", &KafkaOptions::linger,
               "How long librdkafka waits to fill a produce request.")
          .add("queue_max_bytes", &KafkaOptions::queue_max_bytes,
               "Bytes librdkafka may hold un-acknowledged; beyond it the output applies "
               "backpressure.",
               config::at_least(ByteSize(1024), "1KiB"))
          .add("queue_max_messages", &KafkaOptions::queue_max_messages,
               "Messages librdkafka may hold un-acknowledged.", config::in_range(1, 10000000))
          .add("message_max_bytes", &KafkaOptions::message_max_bytes,
               "Largest message; larger events go to the dead-letter file. Must not exceed the "
               "topic's max.message.bytes.",
               config::at_least(ByteSize(1000), "1000B"))
          .add("flush_timeout", &KafkaOptions::flush_timeout,
               "At stop, after the pipeline's drain: how much longer to wait for outstanding "
               "acknowledgements; what is not confirmed by then stays un-acked and is sent "
               "again after restart.")
          .add("max_in_flight", &KafkaOptions::max_in_flight,
               "Deliveries (groups of batches) outstanding at once.", config::in_range(1, 256))
          .add("properties", &KafkaOptions::properties,
               "Any librdkafka property (security.protocol, sasl.*, ssl.*, ...); wins over the "
               "options above. Use ${file:/path} for secrets.");
    doc::add_document_options(s);
    return s;
  }();
  return s;
}

Status KafkaOptions::validate() const {
  if (brokers.empty() && !properties.count("bootstrap.servers") &&
      !properties.count("test.mock.num.brokers")) {
    return Status::invalid("brokers must name at least one broker");
  }
  if (topic.empty()) return Status::invalid("topic must not be empty");
  if (idempotence && acks != "all") return Status::invalid("idempotence needs acks: all");
  if (key == KafkaKey::kField && key_field.empty()) {
    return Status::invalid("key: field needs key_field");
  }
  if (headers.size() > kMaxHeaders) {
    return Status::invalid("at most " + std::to_string(kMaxHeaders) + " headers are supported");
  }
  // Builds (and frees) librdkafka's config: a property it refuses is a config error.
  Result<KafkaConf> conf = make_kafka_conf(*this);
  if (!conf.is_ok()) return Status::invalid(conf.status().message());
  return Status::ok();
}

namespace {

Status set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  rd_kafka_conf_res_t r = rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err);
  if (r == RD_KAFKA_CONF_OK) return Status::ok();
  if (r == RD_KAFKA_CONF_UNKNOWN) {
    return Status::invalid("unknown librdkafka property '" + key + "'");
  }
  // librdkafka's message may quote the value; values can be secrets, so only name the property.
  std::string why(err);
  if (!value.empty()) {
    for (std::size_t p = why.find(value); p != std::string::npos; p = why.find(value)) {
      why.replace(p, value.size(), "<redacted>");
    }
  }
  return Status::invalid("invalid value for librdkafka property '" + key + "': " + why);
}

}  // namespace

Result<KafkaConf> make_kafka_conf(const KafkaOptions& o) {
  KafkaConf conf(rd_kafka_conf_new());
  std::string brokers;
  for (const auto& b : o.brokers) brokers += (brokers.empty() ? "" : ",") + b;
  const std::pair<std::string, std::string> ours[] = {
      {"bootstrap.servers", brokers},
      {"enable.idempotence", o.idempotence ? "true" : "false"},
      {"acks", o.acks == "all" ? "-1" : o.acks},
      {"compression.codec", o.compression},
      {"message.timeout.ms", std::to_string(o.message_timeout.count())},
      {"linger.ms", std::to_string(o.linger.count())},
      {"queue.buffering.max.kbytes", std::to_string(std::max<uint64_t>(1, o.queue_max_bytes.bytes / 1024))},
      {"queue.buffering.max.messages", std::to_string(o.queue_max_messages)},
      {"message.max.bytes", std::to_string(o.message_max_bytes.bytes)},
      // The error and delivery callbacks carry everything; librdkafka's own log goes through
      // our log callback.
      {"client.id", "logship"},
  };
  for (const auto& [k, v] : ours) {
    if (k == "bootstrap.servers" && v.empty()) continue;
    LOGSHIP_TRY(set(conf.get(), k, v));
  }
  for (const auto& [k, v] : o.properties) {
    LOGSHIP_TRY(set(conf.get(), k, v));
  }
  return conf;
}

}  // namespace logship::plugins
