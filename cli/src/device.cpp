// SPDX-License-Identifier: GPL-2.0-or-later
#include "device.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <iostream>

#include "bpf_backend/bpf_backend.h"
#include "errors.h"

namespace diag {

namespace {

constexpr uint32_t kReportChunk = 4u << 20;

}  // namespace

std::string Device::path() {
  const char *env = std::getenv("DIAGNOSE_DEVICE");
  return env && *env ? env : "/dev/" DIAG_DEVICE_NAME;
}

std::unique_ptr<Device> Device::open() {
  const std::string path = Device::path();
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENXIO || err == ENODEV)
      throw EnvironmentError(path + " does not exist: load the module first (modprobe diagnose; from a build tree: insmod module/diagnose.ko)");
    if (err == EACCES || err == EPERM)
      throw EnvironmentError("permission denied on " + path +
                             ": diagnose-tools must run as root (sudo diagnose-tools ...)");
    throw EnvironmentError("cannot open " + path + ": " + std::strerror(err));
  }
  std::unique_ptr<Device> dev(new Device(fd));
  if (::ioctl(fd, DIAG_IOC_VERSION, &dev->version_) != 0) {
    int err = errno;
    if (err == ENOTTY)
      throw EnvironmentError(path + " does not answer the ABI query: it is not a diagnose.ko "
                             "this diagnose-tools can talk to");
    throw EnvironmentError("ABI query on " + path + " failed: " + std::strerror(err));
  }
  if (dev->version_.abi_version != DIAG_ABI_VERSION) {
    throw EnvironmentError("diagnose.ko speaks ABI " + std::to_string(dev->version_.abi_version) +
                           " but this diagnose-tools needs ABI " +
                           std::to_string(DIAG_ABI_VERSION) +
                           ": load the module that came with it (rmmod diagnose && modprobe "
                           "diagnose; diagnose-tools --version shows both)");
  }
  return dev;
}

Device::~Device() {
  if (fd_ >= 0) ::close(fd_);
}

void Device::call(uint32_t function, uint32_t verb, void *arg, uint32_t arg_size) {
  diag_ioc ioc{};
  ioc.abi_version = DIAG_ABI_VERSION;
  ioc.arg_size = arg_size;
  ioc.arg = reinterpret_cast<uintptr_t>(arg);
  if (::ioctl(fd_, DIAG_IOC(function, verb), &ioc) == 0) return;
  int err = errno;
  ioc.msg[sizeof(ioc.msg) - 1] = '\0';
  std::string why = ioc.msg[0] ? ioc.msg : std::strerror(err);
  if (err == EOPNOTSUPP && !ioc.msg[0]) why = "this function is not in the loaded module";
  throw KernelError(err, why);
}

void Device::report(uint32_t function, ReportBytes &out, int *rounds) {
  std::vector<uint8_t> chunk(kReportChunk);
  if (rounds) *rounds = 0;
  // Producers keep writing while we drain; stop after one buffer's worth
  // beyond what was there so a busy machine cannot keep us here forever.
  for (int round = 0; round < 64; ++round) {
    diag_report rep{};
    rep.buf = reinterpret_cast<uintptr_t>(chunk.data());
    rep.buf_len = kReportChunk;
    call(function, DIAG_VERB_REPORT, &rep, sizeof(rep));
    out.data.insert(out.data.end(), chunk.begin(),
                    chunk.begin() + std::min<uint32_t>(rep.bytes, kReportChunk));
    out.lost_total = rep.lost;
    out.real_minus_mono_ns = rep.real_minus_mono_ns;
    out.nr_cpus = rep.nr_cpus;
    if (rounds) *rounds = round + 1;
    if (!rep.more) break;
  }
}

}  // namespace diag

namespace diag {

namespace {

// Whether the module can be loaded here: the kernel loads modules and
// modprobe finds diagnose for it (installed, e.g. by DKMS).
bool module_loadable() {
  if (::access("/proc/modules", F_OK) != 0) return false;
  return std::system("modprobe -n -q diagnose >/dev/null 2>&1") == 0;
}

bool load_module() { return std::system("modprobe -q diagnose >/dev/null 2>&1") == 0; }

}  // namespace

BackendChoice parse_backend_choice(const std::string &text) {
  if (text == "auto") return BackendChoice::kAuto;
  if (text == "module") return BackendChoice::kModule;
  if (text == "bpf") return BackendChoice::kBpf;
  throw UsageError("unknown backend '" + text + "': auto, module or bpf");
}

BackendChoice backend_choice(const std::string &option) {
  if (!option.empty()) return parse_backend_choice(option);
  const char *env = std::getenv("DIAGNOSE_BACKEND");
  if (env && *env) return parse_backend_choice(env);
  return BackendChoice::kAuto;
}

std::unique_ptr<Backend> open_backend(BackendChoice choice, uint32_t function,
                                      bool may_load_module) {
  const bool have_device = ::access(Device::path().c_str(), F_OK) == 0;
  // only an activation loads the module: a report, settings or a
  // deactivation of a module that is not loaded has nothing to find
  const bool try_load = !have_device && may_load_module && module_loadable();
  switch (choice) {
    case BackendChoice::kModule:
      if (try_load && load_module())
        std::cerr << "diagnose-tools: loaded the installed diagnose.ko (modprobe diagnose)\n";
      return Device::open();
    case BackendChoice::kBpf:
      return BpfBackend::open();
    case BackendChoice::kAuto:
      break;
  }
  // where the function runs now, so that --report finds its activation
  if (BpfBackend::active(function)) return BpfBackend::open();
  if (have_device) return Device::open();
  if (try_load && load_module()) {
    std::cerr << "diagnose-tools: loaded the installed diagnose.ko (modprobe diagnose)\n";
    return Device::open();
  }
  const std::string bpf_why = BpfBackend::unavailable_reason();
  if (bpf_why.empty()) {
    if (!BpfBackend::has(function))
      throw EnvironmentError(Device::path() +
                             " does not exist and this function has no BPF implementation "
                             "yet: load the module (modprobe diagnose; from a build tree: "
                             "insmod module/diagnose.ko)");
    return BpfBackend::open();
  }
  throw EnvironmentError(Device::path() + " does not exist and the module cannot be loaded "
                         "(modprobe diagnose; from a build tree: insmod module/diagnose.ko), "
                         "and BPF cannot be used: " + bpf_why);
}

}  // namespace diag
