// The condition parser on arbitrary text: no crash, no hang; an error names a column inside the
// text (or just past it); a condition that compiles evaluates on a sample event without fault.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/core/batch.h"
#include "daemon/core/condition/condition.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace logship;
  static const std::shared_ptr<const SourceInfo> source = [] {
    auto s = std::make_shared<SourceInfo>();
    s->input = "docker";
    s->key = "k";
    s->tags.push_back(Tag{"container_name", ValueType::kString, "api"});
    s->labels = {{"team", "payments"}};
    return s;
  }();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  condition::CompileError err;
  auto c = condition::Condition::compile(text, &err);
  if (!c) {
    if (err.message.empty() || err.column == 0 || err.column > text.size() + 1) __builtin_trap();
    return 0;
  }
  Batch b(source);
  Event& e = b.add_event();
  e.message = b.copy("GET /health 200");
  e.stream = Stream::kStderr;
  e.set("level", Value::string("warn"));
  e.set("status", Value::integer(503));
  e.set("ratio", Value::real(0.5));
  e.set("ok", Value::boolean(true));
  e.set("http", Value::raw_json(R"({"status":502,"h":{"ua":"a\"b\u00e9"},"l":[1,{"x":2}]})"));
  e.set("bad", Value::raw_json(R"({"a":)"));
  std::string scratch;
  (void)c->matches(e, *source, &scratch);
  return 0;
}
