#pragma once
// Does a line begin with the header a logging framework puts in front of each record (a time
// stamp or a level)? Used to recognise the log statement a trace belongs to, and by
// `rules: header` to tell where a new record starts. Character checks only.
#include <string_view>

namespace logship::parsers {

// Recognised headers:
//   2024-05-01T10:00:05.412Z / 2024-05-01 10:00:05,412 (ISO 8601, RFC 3339, Logback, Python)
//   2024/05/01 10:00:05 (Go log)            10:00:05.412 (time of day first)
//   01-May-2024 10:00:05 (Tomcat)
//   May 01, 2024 10:00:05 AM (JUL)           May  1 10:00:05 (syslog)
//   [2024-05-01 ...] / [01/May/2024 ...] / [10:00:05.412] / [1714557605412] / [ERROR]
//   E, [2024-05-01T10:00:05.123456 #1] (Ruby Logger)
//   ERROR:root:msg / ERROR:    msg / error: msg (Python, uvicorn, winston)  ERROR msg / WARN msg
//   fail: Category[0] (.NET console)        time=... / level=... / ts=... (slog text, logfmt)
bool log_header(std::string_view line);

// A log statement a trace may belong to: a header, and a word of warning severity or worse
// (ERROR, WARN, SEVERE, CRITICAL, FATAL, fail, ERR, exception ...) within its first 200 bytes.
// An INFO line or an access log line right before an unrelated trace does not take it.
bool log_statement(std::string_view line);

// A bare level word (ERROR, Warning, error ...) of `word`.
bool level_word(std::string_view word);

}  // namespace logship::parsers
