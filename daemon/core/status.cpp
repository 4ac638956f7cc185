#include "daemon/core/status.h"

#include <cstring>

namespace logship {

Status Status::io(std::string_view what, int err) {
  std::string m(what);
  m += ": ";
  m += std::strerror(err);
  return Status(Code::kIo, std::move(m));
}

}  // namespace logship
