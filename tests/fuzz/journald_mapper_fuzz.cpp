// Journald field mapping, driven through the EntrySource interface (no journal file needed):
// entries are blocks of "FIELD=value" lines separated by an empty line. Never a crash; the held
// (unfinished Docker partial) lines stay bounded and pin a cursor exactly while held; and no
// MESSAGE byte is lost or duplicated once everything is flushed (one MESSAGE per entry, joins
// below the size cap).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "inputs/journald/entry_mapper.h"

using namespace logship;
using namespace logship::plugins::journald;

namespace {

class FuzzEntry final : public EntrySource {
 public:
  std::vector<std::string_view> items;
  uint64_t realtime = 0;
  std::string cur;
  void restart_data() override { i_ = 0; }
  bool next_data(std::string_view* item) override {
    if (i_ >= items.size()) return false;
    scratch_.assign(items[i_++]);   // like sd-journal: valid until the next call
    *item = scratch_;
    return true;
  }
  uint64_t realtime_usec() const override { return realtime; }
  std::string cursor() const override { return cur; }

 private:
  std::size_t i_ = 0;
  std::string scratch_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  MapperOptions o;
  o.all_fields = data[0] & 1;
  o.trusted_fields = data[0] & 2;
  if (data[0] & 4) o.include_fields = {"MESSAGE_ID", "CODE_FILE", "_PID"};
  o.max_held_lines = 1 + (data[0] >> 5);
  o.partial_timeout = std::chrono::milliseconds(1000);
  EntryMapper m(o);
  static auto source = std::make_shared<SourceInfo>();
  Batch b(source, 16);
  TimePoint now = SteadyClock::now();

  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::size_t message_bytes = 0;
  bool one_message_each = true;
  uint64_t n = 0;
  while (!text.empty()) {
    std::size_t end = text.find("\n\n");
    std::string_view block = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 2);
    FuzzEntry e;
    e.realtime = 1700000000000000ULL + n;
    e.cur = "c" + std::to_string(n++);
    int messages = 0;
    while (!block.empty()) {
      std::size_t nl = block.find('\n');
      std::string_view item = block.substr(0, nl);
      block.remove_prefix(nl == std::string_view::npos ? block.size() : nl + 1);
      e.items.push_back(item);
      if (item.substr(0, 8) == "MESSAGE=") {
        ++messages;
        message_bytes += item.size() - 8;
      }
    }
    one_message_each &= messages == 1;
    m.map(e, b, now);
    if (m.held_lines() > o.max_held_lines) __builtin_trap();
    if ((m.held_lines() > 0) != (m.oldest_held_cursor() != nullptr)) __builtin_trap();
    now += std::chrono::milliseconds(300);
    if (n % 3 == 0) m.flush_expired(b, now, false);
  }
  m.flush_expired(b, now, true);
  if (m.held_lines() != 0 || m.oldest_held_cursor() != nullptr) __builtin_trap();
  std::size_t out_bytes = 0;
  for (const Event& e : b.events()) out_bytes += e.message.size();
  if (one_message_each && message_bytes < o.partial_max_size && out_bytes != message_bytes)
    __builtin_trap();
  return 0;
}
