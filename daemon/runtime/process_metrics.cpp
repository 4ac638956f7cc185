#include "daemon/runtime/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "daemon/core/block_pool.h"
#include "daemon/runtime/metrics.h"

namespace logship {
namespace {

void gauge(std::string& out, const char* name, const char* type, const char* help, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  if (double ip; std::modf(v, &ip) == 0.0 && v < 1e15 && v > -1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  }
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  out += buf;
  out += '\n';
}

// Fields of /proc/self/stat after the command name (which may hold spaces and parentheses).
bool read_stat(unsigned long* utime, unsigned long* stime, unsigned long long* starttime,
               unsigned long* vsize, long* rss_pages) {
  std::ifstream f("/proc/self/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = s.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream in(s.substr(close + 2));
  std::string field;
  // state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15)
  for (int i = 3; i <= 13; ++i) in >> field;
  long cutime, cstime, prio, nice, threads, itreal;
  in >> *utime >> *stime >> cutime >> cstime >> prio >> nice >> threads >> itreal >> *starttime >>
      *vsize >> *rss_pages;
  return static_cast<bool>(in);
}

double boot_time_seconds() {
  std::ifstream f("/proc/stat");
  std::string key;
  double value = 0;
  while (f >> key) {
    if (key == "btime") {
      f >> value;
      return value;
    }
    f.ignore(1 << 20, '\n');
  }
  return 0;
}

int open_fds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;   // not the descriptor opendir itself holds
}

}  // namespace

std::string render_process_metrics() {
  std::string out;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  unsigned long utime = 0, stime = 0, vsize = 0;
  unsigned long long starttime = 0;
  long rss_pages = 0;
  if (read_stat(&utime, &stime, &starttime, &vsize, &rss_pages) && ticks > 0) {
    gauge(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
          static_cast<double>(utime + stime) / ticks);
    gauge(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
          static_cast<double>(rss_pages) * static_cast<double>(::sysconf(_SC_PAGESIZE)));
    gauge(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
          static_cast<double>(vsize));
    gauge(out, "process_start_time_seconds", "gauge",
          "Start time of the process since unix epoch in seconds.",
          boot_time_seconds() + static_cast<double>(starttime) / ticks);
  }
  if (int n = open_fds(); n >= 0) {
    gauge(out, "process_open_fds", "gauge", "Number of open file descriptors.", n);
  }
  if (rlimit rl{}; ::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    gauge(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
          static_cast<double>(rl.rlim_cur));
  }
  gauge(out, "logship_batch_blocks_kept_bytes", "gauge",
        "Freed batch memory kept for reuse (at most a sixteenth of memory_limit; returned when "
        "inputs go idle).",
        static_cast<double>(BlockPool::global().kept_bytes()));
  out += "# HELP logship_build_info The version and source commit of this binary.\n"
         "# TYPE logship_build_info gauge\nlogship_build_info{";
  out += label("version", LOGSHIP_VERSION);
  out += ',';
  out += label("commit", build_commit());
  out += "} 1\n";
  return out;
}

}  // namespace logship
