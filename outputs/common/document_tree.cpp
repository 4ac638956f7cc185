#include "outputs/common/document_tree.h"

#include "daemon/core/json_writer.h"

namespace logship::plugins::doc {
namespace {

// Yields a leaf's path segments: base and rest split at dots, then the key whole.
class Segments {
 public:
  explicit Segments(const Leaf& l) : parts_{l.base, l.rest}, key_(l.key) {}
  // False after the key.
  bool next(std::string_view* seg, bool* is_key = nullptr) {
    while (part_ < 2) {
      std::string_view p = parts_[part_];
      if (pos_ >= p.size()) {
        ++part_;
        pos_ = 0;
        continue;
      }
      std::size_t dot = p.find('.', pos_);
      if (dot == std::string_view::npos) dot = p.size();
      *seg = p.substr(pos_, dot - pos_);
      pos_ = dot + 1;
      if (is_key != nullptr) *is_key = false;
      return true;
    }
    if (part_ == 2) {
      ++part_;
      *seg = key_;
      if (is_key != nullptr) *is_key = true;
      return true;
    }
    return false;
  }

 private:
  std::string_view parts_[2];
  std::string_view key_;
  int part_ = 0;
  std::size_t pos_ = 0;
};

// <0, 0, >0 by path; *prefix set when a's whole path is a proper prefix of b's.
int compare_paths(const Leaf& a, const Leaf& b, bool* a_prefix_of_b = nullptr) {
  Segments sa(a), sb(b);
  std::string_view x, y;
  for (;;) {
    bool ha = sa.next(&x);
    bool hb = sb.next(&y);
    if (!ha || !hb) {
      if (a_prefix_of_b != nullptr) *a_prefix_of_b = !ha && hb;
      return ha ? 1 : (hb ? -1 : 0);
    }
    int c = x.compare(y);
    if (c != 0) return c;
  }
}

void open_member(std::string& out, bool* has_members, std::string_view key) {
  if (*has_members) out.push_back(',');
  *has_members = true;
  json::append_string(out, key);
  out.push_back(':');
}

void write_value(std::string& out, const Leaf& l) {
  switch (l.kind) {
    case Leaf::Kind::kJson: out.append(l.text); return;
    case Leaf::Kind::kString: json::append_string(out, l.text); return;
    case Leaf::Kind::kValue: json::append_value(out, *l.value); return;
  }
}

}  // namespace

bool leaf_less(const Leaf& a, const Leaf& b) {
  int c = compare_paths(a, b);
  if (c != 0) return c < 0;
  return a.rank != b.rank ? a.rank < b.rank : a.order < b.order;
}

std::string_view first_segment(const Leaf& l) {
  std::string_view p = !l.base.empty() ? l.base : (!l.rest.empty() ? l.rest : std::string_view());
  return p.empty() ? l.key : p.substr(0, p.find('.'));
}

void write_leaves(std::string& out, std::span<const Leaf> sorted, bool has_members,
                  std::vector<std::string_view>* stack) {
  stack->clear();
  // Whether the innermost open object has a member yet: only the last one can be without,
  // since an object is opened for the member written next.
  bool inner_has_members = has_members;
  const std::size_t n = sorted.size();
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    bool prefix = false;
    while (j < n && compare_paths(sorted[i], sorted[j], &prefix) == 0) ++j;   // duplicates lose
    if (j < n && prefix) {   // the object wins over the value
      i = j;
      continue;
    }
    const Leaf& l = sorted[i];
    i = j;
    // The leaf's objects: keep the open ones it shares, close the rest, open its own.
    auto close_to = [&](std::size_t depth) {
      if (stack->size() <= depth) return;
      out.append(stack->size() - depth, '}');
      stack->resize(depth);
      inner_has_members = true;   // the closed object was a member of this one
    };
    Segments s(l);
    std::string_view seg;
    bool is_key = false;
    std::size_t depth = 0;
    bool shared = true;
    while (s.next(&seg, &is_key) && !is_key) {
      if (shared && depth < stack->size() && (*stack)[depth] == seg) {
        ++depth;
        continue;
      }
      if (shared) close_to(depth);
      shared = false;
      open_member(out, &inner_has_members, seg);
      out.push_back('{');
      stack->push_back(seg);
      inner_has_members = false;
      ++depth;
    }
    if (shared) close_to(depth);
    open_member(out, &inner_has_members, l.key);
    write_value(out, l);
  }
  for (std::size_t k = stack->size(); k > 0; --k) out.push_back('}');
  stack->clear();
}

}  // namespace logship::plugins::doc
