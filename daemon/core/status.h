#pragma once
// Status and Result: error values that cross every plugin interface; no exceptions on the data path.
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace logship {

class [[nodiscard]] Status {
 public:
  enum class Code : unsigned char { kOk, kInvalid, kIo, kCorrupt, kUnavailable, kInternal };

  Status() = default;
  static Status ok() { return {}; }
  static Status invalid(std::string what) { return Status(Code::kInvalid, std::move(what)); }
  static Status corrupt(std::string what) { return Status(Code::kCorrupt, std::move(what)); }
  static Status unavailable(std::string what) { return Status(Code::kUnavailable, std::move(what)); }
  static Status internal(std::string what) { return Status(Code::kInternal, std::move(what)); }
  // "what: strerror(err)"
  static Status io(std::string_view what, int err);

  bool is_ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  Status with_context(std::string_view where) const {
    return Status(code_, std::string(where) + ": " + message_);
  }

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Status status) : v_(std::move(status)) {}
  bool is_ok() const { return v_.index() == 0; }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& value() const& { return std::get<0>(v_); }
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<1>(v_);
  }

 private:
  std::variant<T, Status> v_;
};

#define LOGSHIP_TRY(expr)             \
  do {                                \
    ::logship::Status s_ = (expr);    \
    if (!s_.is_ok()) return s_;       \
  } while (0)

}  // namespace logship
