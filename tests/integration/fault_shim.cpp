// LD_PRELOAD shim for integration tests: fdatasync and fsync fail with EIO, as a failing disk
// reports them, for files under $LOGSHIP_FAULT_PREFIX while the file $LOGSHIP_FAULT_FLAG exists.
// Everything else (checkpoints, the dead-letter file) syncs for real, so a test controls exactly
// which durability calls fail and when they heal.
#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

using SyncFn = int (*)(int);

bool should_fail(int fd) {
  const char* flag = std::getenv("LOGSHIP_FAULT_FLAG");
  const char* prefix = std::getenv("LOGSHIP_FAULT_PREFIX");
  if (flag == nullptr || prefix == nullptr || ::access(flag, F_OK) != 0) return false;
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char target[4096];
  ssize_t n = ::readlink(link, target, sizeof target - 1);
  if (n <= 0) return false;
  target[n] = '\0';
  return std::strncmp(target, prefix, std::strlen(prefix)) == 0;
}

int call(const char* name, int fd) {
  if (should_fail(fd)) {
    errno = EIO;
    return -1;
  }
  auto real = reinterpret_cast<SyncFn>(::dlsym(RTLD_NEXT, name));
  if (real == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return real(fd);
}

}  // namespace

extern "C" int fdatasync(int fd) { return call("fdatasync", fd); }
extern "C" int fsync(int fd) { return call("fsync", fd); }
