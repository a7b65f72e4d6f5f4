// SPDX-License-Identifier: GPL-2.0-or-later
// keytime-image report model, shared by its writers and tests.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "function_command.h"
#include "records.h"
#include "stack_report.h"

namespace diag {

// One event with what follows its record decoded.
struct KeytimeEvent {
  diag_keytime_record rec{};
  std::string filename;                    // exec
  std::vector<std::string> argv;           // exec
  std::optional<diag_kernel_stack> stack;  // offcpu with stack=1
};

// The keytime records of a report, in time order.  Throws MalformedInput
// on a record whose data does not fit in it.
std::vector<KeytimeEvent> decode_keytime(const DecodedReport &report);

// "fork", "vfork", "thread" or "clone" (CLONE_VM without a new thread),
// from the flags of the call.
std::string creation_kind(const diag_keytime_record &r);
// The EVENT column: "fork_enter", "vfork_exit", "exec", "exit", "oncpu"...
std::string keytime_event_name(const diag_keytime_record &r);
// CLONE_* names of the flags (unknown bits as hex), and the exit signal.
std::vector<std::string> clone_flag_names(uint64_t flags);
std::string clone_flags_text(uint64_t flags, int32_t exit_signal);
// "R", "S", "D"... from the state index of an off-CPU event.
std::string task_state_letter(uint32_t index);
// "preempted" (involuntary, as the kernel counts nivcsw) or "blocked".
std::string offcpu_reason(const diag_keytime_record &r);

// Pairs each task's off-CPU and on-CPU events, across report batches.
class KeytimeTimeline {
 public:
  struct Derived {
    std::optional<uint64_t> off_ns;  // oncpu: time since the task left a CPU
    std::optional<uint64_t> ran_ns;  // offcpu: CPU time since it came on
  };
  // An off-CPU period of an event that carries a stack.
  struct OffcpuPeriod {
    KeytimeEvent off;
    uint64_t off_ns = 0;
    bool open = false;  // still off CPU when measured (at the end)
  };
  // Takes the next event; periods it ends are appended to `ended`.
  Derived observe(const KeytimeEvent &e, std::vector<OffcpuPeriod> &ended);
  // The periods still open (tasks that did not die), measured to now_ns.
  std::vector<OffcpuPeriod> close(uint64_t now_ns);

 private:
  struct Task {
    std::optional<KeytimeEvent> off;     // the open off-CPU event with a stack
    std::optional<uint64_t> off_ts;      // when the task last left a CPU
    std::optional<uint64_t> on_sum_exec; // its CPU time when it last came on
  };
  std::map<int32_t, Task> tasks_;
};

// Off-CPU stack blocks (docs/stack-format.md): identical stacks of one task
// aggregated, weighted by microseconds off CPU.
std::vector<StackBlock> offcpu_stack_blocks(const std::vector<KeytimeTimeline::OffcpuPeriod> &periods,
                                            const KernelSymbols &ksyms);

std::unique_ptr<FunctionCommand> make_keytime_image_command();

}  // namespace diag
