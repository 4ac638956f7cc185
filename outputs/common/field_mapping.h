#pragma once
// Where the ecs and otel schemas put each value: the source's shared container fields (mapped
// once per batch) and the event's own fields (input fields such as syslog's severity, parsed
// application keys such as level or trace.id).
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/batch.h"
#include "daemon/core/host_identity.h"
#include "outputs/common/document_tree.h"
#include "outputs/common/label_policy.h"

namespace logship::plugins::doc {

enum class Schema { kLogship, kEcs, kOtel };
Schema parse_schema(std::string_view name);

// The ECS version the ecs schema's field names follow (written as ecs.version).
inline constexpr std::string_view kEcsVersion = "8.17.0";

// Ranks of leaves (lower wins when two values land on the same path).
inline constexpr uint8_t kRankSchema = 0;     // @timestamp, stream, container.*, host.name ...
inline constexpr uint8_t kRankInput = 1;      // what an input mapped: syslog's severity ...
inline constexpr uint8_t kRankApp = 2;        // parsed keys that are ECS fields: level ...
inline constexpr uint8_t kRankOther = 3;      // every other parsed key
inline constexpr uint8_t kRankFallback = 4;   // log.level from a syslog severity

// Appends the leaves of the source's shared fields, unsorted. Values are encoded into strings
// kept in `owned` (a deque: its strings never move), which the leaves view.
void map_source(Schema schema, const SourceInfo& source, const Labels& labels,
                const HostIdentity& host, std::deque<std::string>* owned, std::vector<Leaf>* out);

// Appends the leaves one event field becomes (none, one or two); they view the field.
void map_event_field(Schema schema, const Field& f, std::string_view fields_under,
                     std::vector<Leaf>* out);

}  // namespace logship::plugins::doc
