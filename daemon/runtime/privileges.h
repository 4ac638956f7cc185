#pragma once
// Least privilege for the daemon itself. Must run before any thread starts: capability sets are
// per thread, and threads created earlier would keep the old ones.
//
//   root, user set          -> initgroups + setresgid + setresuid to the user; keeps only
//                              CAP_DAC_READ_SEARCH (effective, permitted, bounding); no ambient,
//                              no inheritable; no_new_privs.
//   root, no user           -> stays uid 0 but keeps only CAP_DAC_READ_SEARCH, with a loud
//                              warning; allow_root: true keeps every capability instead.
//   not root                -> drops every capability but CAP_DAC_READ_SEARCH (e.g. systemd's
//                              AmbientCapabilities gave more); a configured user other than the
//                              current one is an error (switching needs root).
#include <string>

#include "daemon/core/status.h"

namespace logship {

struct PrivilegeOptions {
  std::string user;
  bool allow_root = false;
  // Created (and given to the user) if missing, so the state can be written after the switch.
  std::string state_dir;
};

Status apply_privileges(const PrivilegeOptions& o);

}  // namespace logship
