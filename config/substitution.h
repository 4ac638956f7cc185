#pragma once
#include <string>
#include <string_view>

#include "daemon/core/status.h"

namespace logship::config {

// Expands ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
// (environment, read as POSIX shells read them) and ${file:PATH} (file contents, one trailing
// newline removed: the usual shape of a mounted secret). "$${" is a literal "${".
// Invalid when a variable is unset without default or a file is unreadable.
//
// Secrets: file contents and values of secret options are remembered so mask_secrets() can
// keep them out of messages; a secret file readable by group or others is warned about; in a
// secret option ${NAME} is an error unless allow_env_secrets was set (environment variables are
// inherited by children and readable in /proc/<pid>/environ).
Status substitute(std::string_view in, std::string* out);

// Options whose values are secrets, by name: password, passwd, secret, token, api_key, apikey,
// credentials, private_key (as a whole word of the snake_case name); not names ending in _file,
// _path or _dir, which hold where a secret is, not the secret.
bool is_secret_option_name(std::string_view name);

// While alive, substitute() on this thread treats values as belonging to a secret option.
class SecretOptionScope {
 public:
  explicit SecretOptionScope(bool secret);
  ~SecretOptionScope();
  SecretOptionScope(const SecretOptionScope&) = delete;
  SecretOptionScope& operator=(const SecretOptionScope&) = delete;

 private:
  bool saved_;
};

// While alive, ${NAME} is allowed in secret options on this thread (service.allow_env_secrets).
class EnvSecretsScope {
 public:
  explicit EnvSecretsScope(bool allow);
  ~EnvSecretsScope();
  EnvSecretsScope(const EnvSecretsScope&) = delete;
  EnvSecretsScope& operator=(const EnvSecretsScope&) = delete;

 private:
  bool saved_;
};

// While alive, ${file:PATH} that cannot be read expands to an empty value instead of failing
// (`validate --offline`: check a config in CI where the secrets are not mounted).
class OfflineSecretsScope {
 public:
  OfflineSecretsScope();
  ~OfflineSecretsScope();
  OfflineSecretsScope(const OfflineSecretsScope&) = delete;
  OfflineSecretsScope& operator=(const OfflineSecretsScope&) = delete;

 private:
  bool saved_;
};

// Remembers a secret value (values shorter than 4 bytes are not: masking them would garble
// ordinary text and hides almost nothing).
void remember_secret(std::string_view value);
// `text` with every remembered secret replaced by "***".
std::string mask_secrets(std::string text);

}  // namespace logship::config
