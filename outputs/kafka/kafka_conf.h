#pragma once
// Options of the kafka output and their translation into a librdkafka configuration.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "config/enum_option.h"
#include "config/option_schema.h"
#include "daemon/core/status.h"
#include "outputs/common/document_options.h"

namespace logship::plugins {

// A message's key: none, the value of key_field, or a hash of the source and offset.
enum class KafkaKey { kNone, kField, kEventId };
constexpr config::EnumNames<KafkaKey, 3> enum_names(KafkaKey) {
  return {{{"none", KafkaKey::kNone}, {"field", KafkaKey::kField}, {"event_id", KafkaKey::kEventId}}};
}
// A message's value: the event as JSON, or the message alone.
enum class KafkaFormat { kJson, kRaw };
constexpr config::EnumNames<KafkaFormat, 2> enum_names(KafkaFormat) {
  return {{{"json", KafkaFormat::kJson}, {"raw", KafkaFormat::kRaw}}};
}

struct KafkaOptions : doc::DocumentOptions {
  KafkaOptions() : DocumentOptions("logship") {}

  static constexpr std::size_t kMaxHeaders = 16;
  std::vector<std::string> brokers;
  std::string topic = "logs";
  KafkaKey key = KafkaKey::kNone;
  std::string key_field = "container_id";
  std::map<std::string, std::string> headers;
  KafkaFormat format = KafkaFormat::kJson;
  std::string compression = "lz4";
  std::string acks = "all";
  bool idempotence = true;
  config::Millis message_timeout{300000};
  config::Millis linger{10};
  config::ByteSize queue_max_bytes = config::operator""_MiB(64);
  int64_t queue_max_messages = 100000;
  config::ByteSize message_max_bytes{1000000};
  config::Millis flush_timeout{1000};
  int64_t max_in_flight = 4;
  std::map<std::string, std::string> properties;

  static const config::OptionSchema<KafkaOptions>& schema();
  // Why the options cannot work, including librdkafka's own verdict on `properties`.
  Status validate() const;
};

struct KafkaConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
// rd_kafka_new() takes the configuration over only when it succeeds: release() it then.
using KafkaConf = std::unique_ptr<rd_kafka_conf_t, KafkaConfDeleter>;

// Builds the librdkafka configuration. An error names the property but never its value (values
// may be secrets).
Result<KafkaConf> make_kafka_conf(const KafkaOptions& o);

}  // namespace logship::plugins
