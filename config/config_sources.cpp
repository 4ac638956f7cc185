#include "config/config_sources.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace logship::config {

namespace {

bool ends_with(const std::string& s, const char* suffix) {
  const std::size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

bool is_piece_name(const std::string& name) {
  if (name.empty() || name[0] == '.') return false;
  return ends_with(name, ".yaml") || ends_with(name, ".yml");
}

bool read_whole(const std::string& path, std::string* text, Errors& errors) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    errors.add("cannot read config file '" + path + "': " + std::strerror(errno));
    return false;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  *text = ss.str();
  return true;
}

}  // namespace

std::string conf_d_dir(const std::string& main_path) {
  const std::size_t slash = main_path.rfind('/');
  if (slash == std::string::npos) return "conf.d";
  return main_path.substr(0, slash + 1) + "conf.d";
}

bool list_conf_d(const std::string& main_path, std::vector<std::string>* pieces,
                 Errors& errors) {
  pieces->clear();
  const std::string dir = conf_d_dir(main_path);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return true;
    errors.add("cannot list config directory '" + dir + "': " + std::strerror(errno));
    return false;
  }
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (!is_piece_name(name)) continue;
    // Regular files only, judged by stat (a ConfigMap's pieces are symlinks into ..data/).
    struct stat st {};
    const std::string path = dir + "/" + name;
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    names.push_back(std::move(name));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) pieces->push_back(dir + "/" + n);
  return true;
}

bool read_config_documents(const std::string& main_path, std::vector<ConfigDocument>* docs,
                           Errors& errors) {
  docs->clear();
  ConfigDocument main{main_path, {}};
  if (!read_whole(main_path, &main.text, errors)) return false;
  docs->push_back(std::move(main));
  std::vector<std::string> pieces;
  if (!list_conf_d(main_path, &pieces, errors)) return false;
  bool ok = true;
  for (const std::string& p : pieces) {
    ConfigDocument doc{p, {}};
    if (!read_whole(p, &doc.text, errors)) {
      ok = false;
      continue;
    }
    docs->push_back(std::move(doc));
  }
  return ok;
}

}  // namespace logship::config
