// Evaluation of compiled conditions. A test on a value that is absent or of a type the literal
// cannot compare with is false (and its `!=` true): `status != 200` holds for events without a
// status, as in most shippers' filters.
#include <charconv>
#include <cmath>

#include <re2/re2.h>

#include "daemon/core/condition/condition.h"
#include "daemon/core/condition/field_path.h"
#include "daemon/core/condition/log_level.h"

namespace logship::condition {

namespace {

// Text of a value for string tests: strings as they are, numbers and booleans as JSON writes
// them (in `buf`), so `status matches "^5"` works on a numeric status.
std::optional<std::string_view> as_text(const Value& v, char (&buf)[32]) {
  switch (v.type) {
    case ValueType::kString:
    case ValueType::kRawJson: return v.s;
    case ValueType::kInt: {
      auto r = std::to_chars(buf, buf + sizeof buf, v.i);
      return std::string_view(buf, static_cast<std::size_t>(r.ptr - buf));
    }
    case ValueType::kDouble: {
      auto r = std::to_chars(buf, buf + sizeof buf, v.d);
      if (r.ec != std::errc()) return std::nullopt;
      return std::string_view(buf, static_cast<std::size_t>(r.ptr - buf));
    }
    case ValueType::kBool: return v.b ? std::string_view("true") : std::string_view("false");
    case ValueType::kNull: return std::nullopt;
  }
  return std::nullopt;
}

std::optional<double> as_number(const Value& v) {
  switch (v.type) {
    case ValueType::kInt: return static_cast<double>(v.i);
    case ValueType::kDouble: return v.d;
    case ValueType::kString: {
      std::string_view s = v.s;
      while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
      while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
      if (!s.empty() && s.front() == '+') s.remove_prefix(1);
      double d = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), d);
      if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
      return d;
    }
    default: return std::nullopt;
  }
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

template <class T>
int order(T a, T b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// -1/0/1 comparing the value with the literal, or nullopt when they do not compare.
std::optional<int> compare(const Value& v, const Literal& lit) {
  switch (lit.kind) {
    case Literal::Kind::kString: {
      char buf[32];
      auto t = as_text(v, buf);
      if (!t || v.type == ValueType::kRawJson) return std::nullopt;
      int c = t->compare(lit.text);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case Literal::Kind::kNumber: {
      auto n = as_number(v);
      if (!n || std::isnan(*n)) return std::nullopt;
      return order(*n, lit.number);
    }
    case Literal::Kind::kBool: {
      if (v.type == ValueType::kBool) return v.b == lit.boolean ? 0 : 1;
      if (v.type == ValueType::kString) {
        if (iequals(v.s, "true")) return lit.boolean ? 0 : 1;
        if (iequals(v.s, "false")) return lit.boolean ? 1 : 0;
      }
      return std::nullopt;
    }
    case Literal::Kind::kDuration: {
      std::optional<double> secs;
      if (v.type == ValueType::kString) {
        secs = parse_duration_seconds(v.s);
        if (!secs) secs = as_number(v);
      } else {
        secs = as_number(v);   // a plain number is seconds
      }
      if (!secs || std::isnan(*secs)) return std::nullopt;
      return order(*secs, lit.number);
    }
    case Literal::Kind::kLevel: {
      std::optional<LevelRank> r;
      if (v.type == ValueType::kString) r = level_rank(v.s);
      if (v.type == ValueType::kInt) r = syslog_level_rank(v.i);
      if (!r) return std::nullopt;
      return order(static_cast<int>(*r), lit.level);
    }
  }
  return std::nullopt;
}

bool apply(CmpOp op, std::optional<int> c) {
  if (!c) return op == CmpOp::kNe;
  switch (op) {
    case CmpOp::kEq: return *c == 0;
    case CmpOp::kNe: return *c != 0;
    case CmpOp::kLt: return *c < 0;
    case CmpOp::kLe: return *c <= 0;
    case CmpOp::kGt: return *c > 0;
    case CmpOp::kGe: return *c >= 0;
  }
  return false;
}

std::optional<Value> resolve(const Operand& op, const Event& e, const SourceInfo& source,
                             std::string* scratch) {
  switch (op.kind) {
    case Operand::Kind::kMessage: return Value::string(e.message);
    case Operand::Kind::kStream:
      if (e.stream == Stream::kNone) return std::nullopt;
      return Value::string(stream_name(e.stream));
    case Operand::Kind::kInput: return Value::string(source.input);
    case Operand::Kind::kLabel:
      if (const std::string* l = source.label(op.name)) return Value::string(*l);
      return std::nullopt;
    case Operand::Kind::kField: {
      if (auto v = lookup_field(e, op.name, scratch)) return v;
      // Source tags (container_name, image, pod, ...) read like fields of every event.
      if (const Tag* t = source.find(op.name)) {
        return t->type == ValueType::kRawJson ? Value::raw_json(t->value)
                                              : Value::string(t->value);
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

bool Condition::source_only() const {
  for (const Node& n : nodes_) {
    const bool logic = n.kind == Node::Kind::kAnd || n.kind == Node::Kind::kOr ||
                       n.kind == Node::Kind::kNot;
    if (!logic && n.operand.kind != Operand::Kind::kInput &&
        n.operand.kind != Operand::Kind::kLabel) {
      return false;
    }
  }
  return true;
}

bool Condition::matches(const Event& e, const SourceInfo& source) const {
  thread_local std::string scratch;
  return matches(e, source, &scratch);
}

bool Condition::matches(const Event& e, const SourceInfo& source, std::string* scratch) const {
  return root_ >= 0 && eval(root_, e, source, scratch);
}

bool Condition::eval(int idx, const Event& e, const SourceInfo& source,
                     std::string* scratch) const {
  const Node& n = nodes_[static_cast<std::size_t>(idx)];
  switch (n.kind) {
    case Node::Kind::kAnd: return eval(n.left, e, source, scratch) && eval(n.right, e, source, scratch);
    case Node::Kind::kOr: return eval(n.left, e, source, scratch) || eval(n.right, e, source, scratch);
    case Node::Kind::kNot: return !eval(n.left, e, source, scratch);
    default: break;
  }
  std::optional<Value> v = resolve(n.operand, e, source, scratch);
  switch (n.kind) {
    case Node::Kind::kExists: return v.has_value() && v->type != ValueType::kNull;
    case Node::Kind::kCompare: return apply(n.op, v ? compare(*v, n.literals.front()) : std::nullopt);
    case Node::Kind::kIn:
      if (!v) return false;
      for (const Literal& lit : n.literals) {
        if (compare(*v, lit) == 0) return true;
      }
      return false;
    case Node::Kind::kMatches:
    case Node::Kind::kStartsWith:
    case Node::Kind::kContains: {
      if (!v) return false;
      char buf[32];
      auto t = as_text(*v, buf);
      if (!t) return false;
      if (n.kind == Node::Kind::kMatches) {
        return RE2::PartialMatch(re2::StringPiece(t->data(), t->size()), *n.regex);
      }
      const std::string& lit = n.literals.front().text;
      return n.kind == Node::Kind::kStartsWith ? t->substr(0, lit.size()) == lit
                                               : t->find(lit) != std::string_view::npos;
    }
    default: return false;
  }
}

}  // namespace logship::condition
