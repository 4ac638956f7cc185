#pragma once
// Where SigV4 credentials come from, in order: a shared credentials file (`credentials_file`,
// its `profile`), the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
// else the instance role from the EC2 instance metadata endpoint (IMDSv2 token, then
// iam/security-credentials/<role>), refreshed five minutes before they expire. A file is
// re-read once a minute so rotated keys are picked up. Thread-safe; secrets are never logged.
#include <chrono>
#include <mutex>
#include <string>

#include "config/option_schema.h"
#include "outputs/elasticsearch/sigv4.h"

namespace logship::plugins::es {

struct AwsSigV4Options {
  std::string region;                 // empty: no signing
  std::string service = "es";
  std::string credentials_file;
  std::string profile = "default";
  std::string metadata_endpoint = "http://169.254.169.254";
  static const config::OptionSchema<AwsSigV4Options>& schema();
};

class AwsCredentialsProvider {
 public:
  AwsCredentialsProvider(AwsSigV4Options o, std::chrono::milliseconds timeout);
  // Current credentials, or why there are none (the delivery is then retried).
  Result<AwsCredentials> get();
  // Where they come from, for the log: "file /path [profile]", "environment", "instance role".
  std::string source() const;

 private:
  Status from_file();
  Status from_instance_role();

  const AwsSigV4Options o_;
  const std::chrono::milliseconds timeout_;
  std::mutex mu_;
  AwsCredentials current_;   // under mu_
  bool have_ = false;
  bool from_env_ = false;
  std::chrono::steady_clock::time_point read_at_{};
};

}  // namespace logship::plugins::es
