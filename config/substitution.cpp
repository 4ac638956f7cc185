#include "config/substitution.h"

#include <sys/stat.h>

#include <cstdlib>
#include <mutex>
#include <set>
#include <vector>

#include "daemon/core/safe_file.h"
#include "daemon/runtime/log.h"

namespace logship::config {
namespace {

// A secret or a certificate is a few KiB; anything larger is a mistake (or /dev/zero).
constexpr std::size_t kMaxFileSubstitution = 1 << 20;

thread_local bool t_secret_option = false;
thread_local bool t_allow_env_secrets = false;
thread_local bool t_offline_secrets = false;

std::mutex g_secrets_mu;
std::set<std::string, std::greater<>>& secrets() {
  // Longest first (greater<> orders "abcd1" before "abcd"), so a secret containing another is
  // masked whole.
  static std::set<std::string, std::greater<>> s;
  return s;
}

void warn_if_shared(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || (st.st_mode & 0044) == 0) return;
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  log::warn("config", "secret file is readable by group or others; chmod 0600 (or 0400) it",
            log::kv("path", path) + log::kv("mode", mode));
}

// ${NAME}, ${NAME:-word}, ${NAME-word}, ${NAME:?message}, ${NAME?message}, as POSIX shells
// read them: '-' substitutes word, '?' fails with message; with ':' an empty value counts as unset.
struct EnvReference {
  std::string name;
  char op = 0;   // 0, '-' or '?'
  bool colon = false;
  std::string word;
};

EnvReference parse_env_reference(std::string_view expr) {
  EnvReference r;
  std::size_t p = expr.find_first_of(":-?");
  if (p == std::string_view::npos) {
    r.name = std::string(expr);
    r.colon = true;   // ${NAME}: empty is as good as unset
    return r;
  }
  r.name = std::string(expr.substr(0, p));
  std::size_t q = p;
  if (expr[q] == ':') {
    r.colon = true;
    ++q;
  }
  if (q < expr.size() && (expr[q] == '-' || expr[q] == '?')) {
    r.op = expr[q];
    r.word = std::string(expr.substr(q + 1));
  } else {
    r.name = std::string(expr);   // not an operator: keep the old reading, a name with ':'
  }
  return r;
}

}  // namespace

SecretOptionScope::SecretOptionScope(bool secret) : saved_(t_secret_option) {
  t_secret_option = secret;
}
SecretOptionScope::~SecretOptionScope() { t_secret_option = saved_; }

EnvSecretsScope::EnvSecretsScope(bool allow) : saved_(t_allow_env_secrets) {
  t_allow_env_secrets = allow;
}
EnvSecretsScope::~EnvSecretsScope() { t_allow_env_secrets = saved_; }

OfflineSecretsScope::OfflineSecretsScope() : saved_(t_offline_secrets) { t_offline_secrets = true; }
OfflineSecretsScope::~OfflineSecretsScope() { t_offline_secrets = saved_; }

bool is_secret_option_name(std::string_view name) {
  // A path to a secret is not a secret: token_file, password_path, ca_file stay ordinary.
  for (std::string_view suffix : {"_file", "_path", "_dir"}) {
    if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
      return false;
    }
  }
  static const std::vector<std::string_view> kWords = {
      "password", "passwd", "secret", "token", "api_key", "apikey", "credentials", "private_key"};
  for (std::string_view w : kWords) {
    for (std::size_t p = name.find(w); p != std::string_view::npos; p = name.find(w, p + 1)) {
      bool start = p == 0 || name[p - 1] == '_' || name[p - 1] == '.';
      std::size_t e = p + w.size();
      bool end = e == name.size() || name[e] == '_' || name[e] == '.';
      if (start && end) return true;
    }
  }
  return false;
}

void remember_secret(std::string_view value) {
  if (value.size() < 4) return;
  std::lock_guard lock(g_secrets_mu);
  secrets().emplace(value);
}

std::string mask_secrets(std::string text) {
  std::lock_guard lock(g_secrets_mu);
  for (const std::string& s : secrets()) {
    for (std::size_t p = text.find(s); p != std::string::npos; p = text.find(s, p + 3)) {
      text.replace(p, s.size(), "***");
    }
  }
  return text;
}

Status substitute(std::string_view in, std::string* out) {
  out->clear();
  std::size_t i = 0;
  while (i < in.size()) {
    if (in[i] == '$' && i + 2 < in.size() && in[i + 1] == '$' && in[i + 2] == '{') {
      out->append("${");
      i += 3;
      continue;
    }
    if (in[i] != '$' || i + 1 >= in.size() || in[i + 1] != '{') {
      out->push_back(in[i++]);
      continue;
    }
    std::size_t close = in.find('}', i + 2);
    if (close == std::string_view::npos) {
      return Status::invalid("unterminated '${' in value");
    }
    std::string_view expr = in.substr(i + 2, close - i - 2);
    if (expr.rfind("file:", 0) == 0) {
      std::string path(expr.substr(5));
      std::string content;
      // An operator names this file, so symlinks are followed (Kubernetes mounts secrets as
      // links); still never a FIFO, a device or a file too large to be a secret.
      SafeRead r = read_file_safely(path, SafeReadLimits{kMaxFileSubstitution, true}, &content);
      if (!r.ok() && t_offline_secrets) {
        i = close + 1;   // offline: the file is where it will be mounted, not here
        continue;
      }
      if (!r.ok()) {
        return Status::invalid("cannot read secret file '" + path + "': " + r.error);
      }
      if (!content.empty() && content.back() == '\n') content.pop_back();
      if (!content.empty() && content.back() == '\r') content.pop_back();
      warn_if_shared(path);
      remember_secret(content);
      out->append(content);
    } else {
      EnvReference ref = parse_env_reference(expr);
      if (t_secret_option && !t_allow_env_secrets) {
        return Status::invalid("secret option takes '${" + ref.name +
                               "}' from the environment; use ${file:/path/to/secret} (or set "
                               "service.allow_env_secrets: true)");
      }
      const char* v = std::getenv(ref.name.c_str());
      // As in shells: the ':' forms treat an empty variable as unset.
      const bool missing = v == nullptr || (ref.colon && *v == '\0');
      if (!missing) {
        out->append(v);
      } else if (ref.op == '-') {
        out->append(ref.word);
      } else if (ref.op == '?') {
        return Status::invalid("environment variable '" + ref.name + "' is " +
                               (v ? "empty" : "not set") +
                               (ref.word.empty() ? std::string() : ": " + ref.word));
      } else {
        return Status::invalid("environment variable '" + ref.name + "' is not set (use ${" +
                               ref.name + ":-default} for a default)");
      }
    }
    i = close + 1;
  }
  if (t_secret_option) remember_secret(*out);
  return Status::ok();
}

}  // namespace logship::config
