#pragma once
// Options of the event-to-document encoding, declared once and added to the schema of every
// output that writes JSON documents. An output's options struct derives from DocumentOptions
// and names its default schema in its constructor.
#include <string>
#include <type_traits>
#include <vector>

#include "config/option_schema.h"

namespace logship::plugins::doc {

struct LabelSelection {
  std::vector<std::string> include;
  std::vector<std::string> exclude;

  static const config::OptionSchema<LabelSelection>& schema() {
    using S = config::OptionSchema<LabelSelection>;
    static const auto s =
        S{}.add("include", &LabelSelection::include,
                "Globs of label keys to keep (keys as Docker has them, before dedot); empty = "
                "all.")
            .add("exclude", &LabelSelection::exclude,
                 "Globs of label keys to drop, e.g. com.docker.compose.project.*.");
    return s;
  }
};

struct DocumentOptions {
  explicit DocumentOptions(std::string default_schema)
      : schema_name(std::move(default_schema)) {}

  std::string schema_name;   // option `schema` (a plugin's options struct has a schema())
  bool dedot = true;
  LabelSelection labels;
  config::ByteSize labels_max_bytes{0};
  std::string fields_under;
};

// Adds schema, dedot, labels, labels_max_bytes and fields_under to the schema of `O`, a struct
// derived from DocumentOptions.
template <class O>
void add_document_options(config::OptionSchema<O>& s) {
  static_assert(std::is_base_of_v<DocumentOptions, O>);
  using D = DocumentOptions;
  auto m = [](auto D::*p) {
    return static_cast<std::remove_reference_t<decltype(std::declval<D&>().*p)> O::*>(p);
  };
  s.add("schema", m(&D::schema_name),
        "Field names of the documents. ecs: Elastic Common Schema (@timestamp, container.*, "
        "host.name, log.level, ...) as Filebeat writes them for Kibana. otel: OpenTelemetry "
        "semantic conventions (body, severity_text, attributes, resource.attributes with "
        "container.*, k8s.*, host.name). logship: the flat layout (timestamp, container_id, "
        "image, labels...).",
        config::one_of({"ecs", "otel", "logship"}))
      .add("dedot", m(&D::dedot),
           "ecs/otel: replace '.' with '_' in label keys, so that label sets like Traefik's "
           "(a.tls next to a.tls.certresolver) cannot collide in the index mapping. The logship "
           "schema keeps keys as they are.")
      .add("labels", m(&D::labels),
           "Which container labels the documents carry: include/exclude glob lists of label "
           "keys. Selection of containers (and processors' when_label) still see every label.")
      .add("labels_max_bytes", m(&D::labels_max_bytes),
           "Most bytes of label keys and values one document carries: labels are taken in "
           "their order while they fit, whole; the others are left out. 0 = no cap.")
      .add("fields_under", m(&D::fields_under),
           "ecs: where parsed fields that are not ECS fields go: empty = top level (a field "
           "named like an object the schema writes, e.g. host, is left out), otherwise under "
           "this one object. ECS fields (level, log.level, trace.id, error.*, ...) always land "
           "in place.");
}

}  // namespace logship::plugins::doc
