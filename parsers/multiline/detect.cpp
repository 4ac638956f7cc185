#include "parsers/multiline/detect.h"

#include "parsers/multiline/line_checks.h"

namespace logship::parsers {
namespace {

Detection set(std::string_view name) { return Detection{name, builtin_rules(name), false}; }

bool has(std::string_view l, std::string_view what) {
  return l.find(what) != std::string_view::npos;
}

// "    at X (file.js:1:2)", "   at X.Y() in F.cs:line 3", "    at com.x.Y.m(Y.java:1)"
Detection space_indented(std::string_view l) {
  const std::size_t n = lines::indent(l);
  std::string_view r = l.substr(n);
  if (r.starts_with("at ")) {
    if (has(r, ".java:") || has(r, "(Native Method)") || has(r, "(Unknown Source)")) {
      return set("java");
    }
    if (has(r, ":line ")) return set("dotnet");
    if (has(r, ".js:") || has(r, ".mjs:") || has(r, ".ts:") || has(r, "(node:") ||
        r.starts_with("at node:") || has(r, "<anonymous>")) {
      return set("nodejs");
    }
    if (n == 3) return set("dotnet");
    if (n == 4) return set("nodejs");
    return {};
  }
  if (n == 1 && r.starts_with("---> ")) return set("dotnet");
  if (n == 2 && r.starts_with("File \"")) return set("python");
  if (n == 2 && r.starts_with("thrown in ")) return set("php");
  return {};
}

}  // namespace

Detection detect_rules(std::string_view l) {
  l = lines::rstrip_cr(l);
  if (l.size() < 4) return {};
  switch (l[0]) {
    case '\t':
      if (l.starts_with("\tat ") || l.starts_with("\t... ")) return set("java");
      if (l.starts_with("\tfrom ") && has(l, ".rb:")) return set("ruby");
      return {};
    case ' ': return space_indented(l);
    case 'T':
      if (l == "Traceback (most recent call last):") return set("python");
      break;
    case 'p':
      if (l.starts_with("panic: ")) return set("go");
      break;
    case 'f':
      if (l.starts_with("fatal error: ")) return set("go");
      break;
    case 'g':
      if (l.starts_with("goroutine ") && l.size() > 10 && lines::is_digit(l[10])) return set("go");
      break;
    case 'U':
      if (l.starts_with("Unhandled exception. ")) return set("dotnet");
      break;
    case 'P':
      if (l.starts_with("PHP Fatal error:  Uncaught ")) return set("php");
      break;
    case '#':
      if (l.starts_with("#0 ")) return set("php");
      break;
    case 'S':
      if (l == "Stack trace:") return set("php");
      break;
    case 'C':
      if (l.starts_with("Caused by: ")) return set("java");
      break;
    case 'E':
      if (l.starts_with("Exception in thread \"")) return set("java");
      break;
    default:
      // Time stamps, addresses, brackets, JSON: no signature and no exception line starts so.
      if (!lines::is_alpha(l[0])) return {};
      break;
  }
  // .NET's console logger: "fail: Microsoft.AspNetCore.Server.Kestrel[13]"; its message lines
  // are indented under it, so the stream needs the dotnet set from its first record on.
  if (l.size() > 6 && l[4] == ':' && l[5] == ' ' && l.back() == ']' &&
      (l.starts_with("fail") || l.starts_with("crit") || l.starts_with("warn") ||
       l.starts_with("info") || l.starts_with("dbug") || l.starts_with("trce"))) {
    return set("dotnet");
  }
  // Ruby's Logger ("E, [2024-05-01T10:00:05.123456 #1] ERROR -- : ...") marks a Ruby stream.
  if (lines::is_upper(l[0]) && l[1] == ',' && l[2] == ' ' && l[3] == '[') return set("ruby");
  Detection d;
  d.maybe_trace_start = lines::exception_line(l);
  return d;
}

}  // namespace logship::parsers
