// SPDX-License-Identifier: GPL-2.0-or-later
// diagnose-tools status: is the module there, does it speak our ABI, what
// is active with which settings; and --version.
#include "status_command.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "bpf_backend/bpf_backend.h"
#include "bpf_backend/bpf_migration_stat.h"
#include "bpf_backend/bpf_migration_trace.h"
#include "errors.h"
#include "function_command.h"
#include "uapi/diagnose.h"

namespace diag {

namespace {

std::string read_line(const std::string &path) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return "";
  return line;
}

// The version modinfo finds for the running kernel (installed, maybe not
// loaded), or "".
std::string installed_version() {
  FILE *p = ::popen("modinfo -F version diagnose 2>/dev/null", "r");
  if (!p) return "";
  char buf[128] = {};
  std::string v;
  if (std::fgets(buf, sizeof(buf), p)) v = buf;
  ::pclose(p);
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

std::string kernel_release() {
  utsname u{};
  return ::uname(&u) == 0 ? u.release : "?";
}

struct ModuleState {
  bool loaded = false;
  std::string module_version;  // from sysfs, readable by anyone
  bool queried = false;        // the ABI query answered
  std::string why_not;         // why it did not
  diag_version version{};
  int fd = -1;
};

ModuleState probe_module() {
  ModuleState m;
  m.loaded = std::filesystem::exists("/sys/module/diagnose");
  m.module_version = read_line("/sys/module/diagnose/version");
  if (!m.loaded && !std::getenv("DIAGNOSE_DEVICE")) return m;
  const std::string path = Device::path();
  m.fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (m.fd < 0) {
    int err = errno;
    if (err == EACCES || err == EPERM)
      m.why_not = "permission denied on " + path + ": run as root (sudo diagnose-tools status)";
    else
      m.why_not = "cannot open " + path + ": " + std::strerror(err);
    return m;
  }
  if (::ioctl(m.fd, DIAG_IOC_VERSION, &m.version) != 0) {
    m.why_not = path + " does not answer the ABI query: " + std::strerror(errno);
    return m;
  }
  m.version.module_version[sizeof(m.version.module_version) - 1] = '\0';
  m.queried = true;
  if (m.module_version.empty()) m.module_version = m.version.module_version;
  return m;
}

std::string not_loaded_hint() {
  std::string v = installed_version();
  if (!v.empty())
    return "diagnose.ko " + v + " is installed for this kernel: load it with `modprobe diagnose`";
  return "no diagnose.ko is installed for kernel " + kernel_release() +
         ": install the package (its DKMS build: `dkms status diagnose`) or run `make install`"
         " in the source tree, then `modprobe diagnose`";
}

std::string abi_hint() {
  return "the loaded module is not the one this diagnose-tools came with: reload it "
         "(`rmmod diagnose && modprobe diagnose`); if that does not help, `dkms status "
         "diagnose` shows which version is built for this kernel";
}

}  // namespace

int print_versions() {
  std::cout << "diagnose-tools " DIAG_CLI_VERSION " (ABI " << DIAG_ABI_VERSION << ")\n";
  ModuleState m = probe_module();
  if (!m.loaded) {
    std::string v = installed_version();
    std::cout << "module: not loaded"
              << (v.empty() ? " (none installed for " + kernel_release() + ")"
                            : " (" + v + " installed for " + kernel_release() + ")")
              << '\n';
  } else if (m.queried) {
    std::cout << "module: diagnose.ko " << m.module_version << " (ABI " << m.version.abi_version
              << (m.version.abi_version == DIAG_ABI_VERSION ? ", matches" : ", MISMATCH")
              << ")\n";
  } else {
    std::cout << "module: diagnose.ko " << m.module_version
              << " (ABI unknown: " << m.why_not << ")\n";
  }
  if (m.fd >= 0) ::close(m.fd);
  return kExitOk;
}

namespace {

class StatusCommand : public Command {
 public:
  explicit StatusCommand(const std::vector<std::unique_ptr<Command>> &commands)
      : commands_(commands) {}

  CLI::App *setup(CLI::App &app) override {
    CLI::App *sub = app.add_subcommand(
        "status",
        "Whether the module is loaded and speaks this CLI's ABI, whether the BPF backend "
        "can run here, which functions are active on each with which settings, and the "
        "state of the debugfs migration trace");
    sub->add_option("--format", format_, "output format")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    return sub;
  }

  int run() override {
    nlohmann::json j;
    j["cli_version"] = DIAG_CLI_VERSION;
    j["cli_abi"] = DIAG_ABI_VERSION;
    j["kernel"] = kernel_release();
    ModuleState m = probe_module();
    j["loaded"] = m.loaded;
    int rc = kExitOk;
    std::string problem;
    if (!m.loaded) {
      problem = "diagnose.ko is not loaded: " + not_loaded_hint();
    } else {
      j["module_version"] = m.module_version;
      if (!m.queried) {
        problem = m.why_not;
      } else {
        j["module_abi"] = m.version.abi_version;
        j["abi_match"] = m.version.abi_version == DIAG_ABI_VERSION;
        j["nr_cpu_ids"] = m.version.nr_cpu_ids;
        if (m.version.abi_version != DIAG_ABI_VERSION)
          problem = "diagnose.ko speaks ABI " + std::to_string(m.version.abi_version) +
                    ", this diagnose-tools ABI " + std::to_string(DIAG_ABI_VERSION) + ": " +
                    abi_hint();
        else
          j["functions"] = functions(m);
      }
      j["parameters"] = parameters();
      j["migration_trace"] = debugfs_state("migration_trace");
      j["migration_stat"] = debugfs_state("migration_stat");
    }
    if (m.fd >= 0) ::close(m.fd);
    j["bpf"] = bpf_state();
    // without the module, the BPF backend serves what it has
    if (!m.loaded && j["bpf"]["available"].get<bool>()) problem.clear();
    if (!problem.empty()) {
      j["problem"] = problem;
      rc = kExitEnvironment;
    }
    if (format_ == "json")
      std::cout << j.dump(2) << '\n';
    else
      print_text(j);
    return rc;
  }

 private:
  // "active", and while active the settings as --settings shows them.
  static void add_settings(const FunctionCommand &f, const std::vector<uint8_t> &s,
                           nlohmann::json &fj) {
    fj["active"] = common_settings(s).activated != 0;
    if (!fj["active"].get<bool>()) return;
    nlohmann::json settings = nlohmann::json::array();
    for (const auto &l : f.describe_settings(s).lines)
      settings.push_back({{"label", l.label}, {"key", l.key}, {"value", l.value}, {"text", l.text}});
    fj["settings"] = settings;
  }

  nlohmann::json functions(const ModuleState &m) const {
    nlohmann::json fns = nlohmann::json::array();
    for (const auto &c : commands_) {
      auto *f = dynamic_cast<const FunctionCommand *>(c.get());
      if (!f) continue;
      nlohmann::json fj;
      fj["name"] = f->name();
      fj["built_in"] = (m.version.functions >> f->id() & 1) != 0;
      if (!fj["built_in"].get<bool>()) {
        fns.push_back(fj);
        continue;
      }
      std::vector<uint8_t> s(f->settings_bytes(), 0);
      diag_ioc ioc{};
      ioc.abi_version = DIAG_ABI_VERSION;
      ioc.arg_size = static_cast<uint32_t>(s.size());
      ioc.arg = reinterpret_cast<uintptr_t>(s.data());
      if (::ioctl(m.fd, DIAG_IOC(f->id(), DIAG_VERB_SETTINGS), &ioc) != 0) {
        ioc.msg[sizeof(ioc.msg) - 1] = '\0';
        fj["error"] = ioc.msg[0] ? ioc.msg : std::strerror(errno);
        fns.push_back(fj);
        continue;
      }
      add_settings(*f, s, fj);
      fns.push_back(fj);
    }
    return fns;
  }

  // The BPF backend: whether it can run here, and its functions' state.
  nlohmann::json bpf_state() const {
    nlohmann::json b;
    std::string why = BpfBackend::unavailable_reason();
    b["available"] = why.empty();
    if (!why.empty()) b["why_not"] = why;
    nlohmann::json fns = nlohmann::json::array();
    std::unique_ptr<BpfBackend> backend;
    if (why.empty()) backend = BpfBackend::open();
    for (const auto &c : commands_) {
      auto *f = dynamic_cast<const FunctionCommand *>(c.get());
      if (!f || !BpfBackend::has(f->id())) continue;
      nlohmann::json fj;
      fj["name"] = f->name();
      fj["active"] = false;
      if (backend && BpfBackend::active(f->id())) {
        std::vector<uint8_t> s(f->settings_bytes(), 0);
        try {
          backend->call(f->id(), DIAG_VERB_SETTINGS, s.data(), static_cast<uint32_t>(s.size()));
          add_settings(*f, s, fj);
        } catch (const std::exception &e) {
          fj["error"] = e.what();
        }
      }
      fns.push_back(fj);
    }
    b["functions"] = fns;
    if (backend) {
      // the migration trace and stat (diagnose-tools migration-trace):
      // each its state, or why it could not be read
      auto state_of = [&b](const char *key, auto status) {
        try {
          b[key] = status().state;
        } catch (const std::exception &e) {
          b[std::string(key) + "_error"] = e.what();
        }
      };
      state_of("migration_trace", mtbpf::status);
      state_of("migration_stat", msbpf::status);
    }
    return b;
  }

  static nlohmann::json parameters() {
    nlohmann::json p = nlohmann::json::object();
    std::error_code ec;
    for (const auto &e :
         std::filesystem::directory_iterator("/sys/module/diagnose/parameters", ec))
      p[e.path().filename().string()] = read_line(e.path().string());
    return p;
  }

  static std::string debugfs_state(const std::string &dir) {
    const std::string base = "/sys/kernel/debug/" + dir;
    std::error_code ec;
    if (!std::filesystem::exists(base, ec))
      return "unavailable (debugfs not mounted, or not readable: mount -t debugfs none "
             "/sys/kernel/debug)";
    std::string v = read_line(base + "/enable");
    if (v == "1") return "running";
    if (v == "0") return "stopped";
    return "unknown";
  }

  // One function's line (and its settings while active), for the module's
  // functions and the BPF backend's alike.
  static void print_function(const nlohmann::json &f) {
    std::cout << "  " << f["name"].get<std::string>() << ": ";
    if (f.contains("built_in") && !f["built_in"].get<bool>())
      std::cout << "not in this module\n";
    else if (f.contains("error"))
      std::cout << "settings unreadable: " << f["error"].get<std::string>() << '\n';
    else if (!f["active"].get<bool>())
      std::cout << "inactive\n";
    else {
      std::cout << "ACTIVE\n";
      for (const auto &l : f["settings"])
        std::cout << "      " << l["label"].get<std::string>() << ": "
                  << l["text"].get<std::string>() << '\n';
    }
  }

  static void print_text(const nlohmann::json &j) {
    std::cout << "diagnose-tools " << j["cli_version"].get<std::string>() << " (ABI "
              << j["cli_abi"] << "), kernel " << j["kernel"].get<std::string>() << '\n';
    if (!j["loaded"].get<bool>()) {
      std::cout << "module: not loaded\n";
    } else {
      std::cout << "module: diagnose.ko " << j["module_version"].get<std::string>();
      if (j.contains("module_abi"))
        std::cout << ", ABI " << j["module_abi"] << (j["abi_match"].get<bool>() ? " (matches)" : " (MISMATCH)")
                  << ", " << j["nr_cpu_ids"] << " possible CPUs";
      std::cout << '\n';
    }
    if (j.contains("functions")) {
      for (const auto &f : j["functions"]) print_function(f);
    }
    const auto &b = j["bpf"];
    if (!b["available"].get<bool>()) {
      std::cout << "bpf: unavailable (" << b["why_not"].get<std::string>() << ")\n";
    } else {
      std::cout << "bpf: available\n";
      for (const auto &f : b["functions"]) print_function(f);
      for (const char *key : {"migration_trace", "migration_stat"}) {
        const std::string label = key == std::string("migration_trace") ? "trace" : "stat";
        if (b.contains(key))
          std::cout << "  migration " << label << ": " << b[key].get<std::string>() << '\n';
        else if (b.contains(std::string(key) + "_error"))
          std::cout << "  migration " << label << ": "
                    << b[std::string(key) + "_error"].get<std::string>() << '\n';
      }
    }
    if (j.contains("migration_trace")) {
      std::cout << "migration_trace (debugfs): " << j["migration_trace"].get<std::string>()
                << "\nmigration_stat (debugfs): " << j["migration_stat"].get<std::string>()
                << '\n';
    }
    if (j.contains("parameters") && !j["parameters"].empty()) {
      std::cout << "parameters:";
      for (const auto &[k, v] : j["parameters"].items())
        std::cout << ' ' << k << '=' << v.get<std::string>();
      std::cout << '\n';
    }
    if (j.contains("problem")) std::cout << "problem: " << j["problem"].get<std::string>() << '\n';
  }

  const std::vector<std::unique_ptr<Command>> &commands_;
  std::string format_ = "text";
};

}  // namespace

std::unique_ptr<Command> make_status_command(
    const std::vector<std::unique_ptr<Command>> &commands) {
  return std::make_unique<StatusCommand>(commands);
}

}  // namespace diag
