#include "daemon/runtime/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "daemon/runtime/log.h"
#include "daemon/state/atomic_file.h"

namespace logship {
namespace {

constexpr cap_value_t kKeep = CAP_DAC_READ_SEARCH;

// Leaves exactly `kKeep` (if held) in the effective and permitted sets; inheritable and
// ambient empty. Dropping never needs privilege.
Status keep_only_read_search(bool have_read_search) {
  cap_t caps = cap_init();   // all clear
  if (caps == nullptr) return Status::io("cap_init", errno);
  if (have_read_search) {
    cap_value_t v[] = {kKeep};
    cap_set_flag(caps, CAP_PERMITTED, 1, v, CAP_SET);
    cap_set_flag(caps, CAP_EFFECTIVE, 1, v, CAP_SET);
  }
  int rc = cap_set_proc(caps);
  int err = errno;
  cap_free(caps);
  if (rc != 0) return Status::io("cap_set_proc", err);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  return Status::ok();
}

// Removes everything but kKeep from the bounding set, so not even an exec of a file-capability
// binary can regain more. Needs CAP_SETPCAP: done while still root.
Status shrink_bounding_set() {
  for (cap_value_t c = 0; c <= CAP_LAST_CAP; ++c) {
    if (c == kKeep) continue;
    if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) <= 0) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) {
      return Status::io("drop capability " + std::to_string(c) + " from the bounding set", errno);
    }
  }
  return Status::ok();
}

// Whether `c` is in this thread's permitted set: a container runtime (a Docker managed plugin,
// a container started with --cap-drop) hands root a restricted set, and asking for more fails.
bool permitted(cap_value_t c) {
  cap_t caps = cap_get_proc();
  if (caps == nullptr) return false;
  cap_flag_value_t v = CAP_CLEAR;
  cap_get_flag(caps, c, CAP_PERMITTED, &v);
  cap_free(caps);
  return v == CAP_SET;
}

// Root without service.user: keep CAP_DAC_READ_SEARCH if we were given it, drop the rest.
// Without CAP_SETPCAP the bounding set stays as the runtime made it; that is safe because
// PR_SET_NO_NEW_PRIVS (set after this) caps what any exec could gain at the permitted set we
// leave, which is at most CAP_DAC_READ_SEARCH.
Status restrict_root() {
  const bool read_search = permitted(kKeep);
  Status s = shrink_bounding_set();
  if (!s.is_ok()) {
    if (permitted(CAP_SETPCAP)) return s;
    log::info("privileges", "no CAP_SETPCAP: the bounding set is left as the runtime set it");
  }
  LOGSHIP_TRY(keep_only_read_search(read_search));
  if (read_search) {
    log::warn("privileges",
              "running as root without service.user: only CAP_DAC_READ_SEARCH is kept, but "
              "uid 0 still owns most files. Set service.user (e.g. logship) to run "
              "unprivileged, or service.allow_root: true to keep every capability");
  } else {
    log::info("privileges",
              "running as root without service.user and without CAP_DAC_READ_SEARCH (not "
              "granted by the runtime): every capability dropped; files are read as uid 0");
  }
  return Status::ok();
}

// Not root. Under systemd (AmbientCapabilities=CAP_DAC_READ_SEARCH, SystemCallFilter without
// capset) the sets are usually right already: then no capset call is made, which the filter
// would refuse. Holding anything more, and failing to drop it, is an error.
Status trim_unprivileged() {
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  cap_t caps = cap_get_proc();
  if (caps == nullptr) return Status::io("cap_get_proc", errno);
  bool extra = false;
  bool keep_permitted = false, keep_effective = false;
  for (cap_value_t c = 0; c <= CAP_LAST_CAP; ++c) {
    cap_flag_value_t p = CAP_CLEAR, e = CAP_CLEAR;
    cap_get_flag(caps, c, CAP_PERMITTED, &p);
    cap_get_flag(caps, c, CAP_EFFECTIVE, &e);
    if (c == kKeep) {
      keep_permitted = p == CAP_SET;
      keep_effective = e == CAP_SET;
    } else if (p == CAP_SET || e == CAP_SET) {
      extra = true;
    }
  }
  cap_free(caps);
  if (!extra && keep_permitted == keep_effective) return Status::ok();
  Status s = keep_only_read_search(keep_permitted);
  if (!s.is_ok() && extra) {
    return s.with_context("cannot drop the capabilities beyond CAP_DAC_READ_SEARCH");
  }
  if (!s.is_ok()) {
    log::warn("privileges", "cannot raise CAP_DAC_READ_SEARCH; root-owned logs are unreadable",
              log::kv("error", s.message()));
  }
  return Status::ok();
}

struct UserIds {
  uid_t uid;
  gid_t gid;
  std::string name;
};

Status lookup_user(const std::string& user, UserIds* out) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  int rc = getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
  if (found == nullptr) {
    // A numeric id is accepted too (containers often have no passwd entry).
    char* end = nullptr;
    unsigned long id = std::strtoul(user.c_str(), &end, 10);
    if (!user.empty() && end != nullptr && *end == '\0') {
      *out = {static_cast<uid_t>(id), static_cast<gid_t>(id), user};
      return Status::ok();
    }
    return Status::invalid("service.user: no user '" + user + "'" +
                           (rc ? std::string(" (") + std::strerror(rc) + ")" : ""));
  }
  *out = {pw.pw_uid, pw.pw_gid, pw.pw_name};
  return Status::ok();
}

// The state directory must stay writable after the switch. Only a directory logship creates is
// handed over; an existing one is left as the administrator made it (and reported if unusable).
Status prepare_state_dir(const std::string& dir, const UserIds& u) {
  if (dir.empty()) return Status::ok();
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (st.st_uid != u.uid) {
      log::warn("privileges", "state_dir is not owned by service.user; writes may fail",
                log::kv("state_dir", dir) + log::kv("owner_uid", static_cast<int64_t>(st.st_uid)) +
                    log::kv("user", u.name));
    }
    return Status::ok();
  }
  LOGSHIP_TRY(make_dirs(dir));
  if (::chown(dir.c_str(), u.uid, u.gid) != 0) return Status::io("chown " + dir, errno);
  if (::chmod(dir.c_str(), 0750) != 0) return Status::io("chmod " + dir, errno);
  return Status::ok();
}

Status switch_user(const PrivilegeOptions& o) {
  UserIds u{};
  LOGSHIP_TRY(lookup_user(o.user, &u));
  if (u.uid == 0) return Status::invalid("service.user: '" + o.user + "' is root");
  LOGSHIP_TRY(prepare_state_dir(o.state_dir, u));
  if (::initgroups(u.name.c_str(), u.gid) != 0) {
    // A bare numeric id has no group list: no supplementary groups at all.
    if (::setgroups(0, nullptr) != 0) return Status::io("setgroups", errno);
  }
  LOGSHIP_TRY(shrink_bounding_set());
  // Keep the permitted set across the uid change, then cut it down to the one capability.
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return Status::io("PR_SET_KEEPCAPS", errno);
  if (::setresgid(u.gid, u.gid, u.gid) != 0) return Status::io("setresgid", errno);
  if (::setresuid(u.uid, u.uid, u.uid) != 0) return Status::io("setresuid", errno);
  prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  LOGSHIP_TRY(keep_only_read_search(true));
  // Verify the switch cannot be undone.
  if (::setuid(0) == 0 || ::geteuid() == 0) {
    return Status::internal("privilege drop failed: could regain uid 0");
  }
  log::info("privileges", "running as service.user",
            log::kv("user", u.name) + log::kv("uid", static_cast<int64_t>(u.uid)) +
                log::kv("gid", static_cast<int64_t>(u.gid)) +
                log::kv("capabilities", "cap_dac_read_search"));
  return Status::ok();
}

}  // namespace

Status apply_privileges(const PrivilegeOptions& o) {
  Status s;
  if (::geteuid() == 0) {
    if (!o.user.empty()) {
      s = switch_user(o);
    } else if (o.allow_root) {
      log::warn("privileges", "running as root with every capability (service.allow_root: true)");
      return Status::ok();
    } else {
      s = restrict_root();
    }
  } else {
    if (!o.user.empty()) {
      UserIds u{};
      LOGSHIP_TRY(lookup_user(o.user, &u));
      if (u.uid != ::geteuid()) {
        return Status::invalid("service.user is '" + o.user + "' but logship runs as uid " +
                               std::to_string(::geteuid()) +
                               " without root; start it as root or as that user");
      }
    }
    // Whatever capabilities the service manager granted, only the one we use stays.
    s = trim_unprivileged();
  }
  if (s.is_ok()) prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  return s;
}

}  // namespace logship
