#include "daemon/commands/config_watch.h"

#include <sys/stat.h>

#include "config/config_sources.h"

namespace logship::commands {

bool ConfigWatch::FileIdentity::operator==(const FileIdentity& o) const {
  return path == o.path && dev == o.dev && ino == o.ino && size == o.size &&
         mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec;
}

ConfigWatch::ConfigWatch(std::string path, std::chrono::milliseconds interval)
    : path_(std::move(path)), interval_(interval) {
  rebase();
}

bool ConfigWatch::stat_now(Identity* out) const {
  std::vector<std::string> paths{path_};
  std::vector<std::string> pieces;
  config::Errors ignored;   // a conf.d that cannot be listed now is looked at next time
  if (!config::list_conf_d(path_, &pieces, ignored)) return false;
  paths.insert(paths.end(), pieces.begin(), pieces.end());
  out->clear();
  for (const std::string& p : paths) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return false;
    out->push_back(FileIdentity{p, st.st_dev, st.st_ino, st.st_size, st.st_mtim});
  }
  return true;
}

void ConfigWatch::rebase() {
  if (path_.empty() || interval_.count() <= 0) return;
  Identity now;
  if (stat_now(&now)) seen_ = now;
  next_ = std::chrono::steady_clock::now() + interval_;
}

bool ConfigWatch::changed() {
  if (path_.empty() || interval_.count() <= 0) return false;
  auto t = std::chrono::steady_clock::now();
  if (t < next_) return false;
  next_ = t + interval_;
  Identity now;
  if (!stat_now(&now) || now == seen_) return false;
  seen_ = now;
  return true;
}

}  // namespace logship::commands
