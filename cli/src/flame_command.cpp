// SPDX-License-Identifier: GPL-2.0-or-later
// diagnose-tools flame: stack reports, folded stacks and perf script output
// to an interactive SVG flame graph, folded stacks or speedscope JSON.
#include "flame_command.h"

#include <fstream>
#include <iostream>
#include <memory>

#include "errors.h"
#include "flame/input.h"
#include "flame/profile.h"
#include "flame/render.h"
#include "output.h"

namespace diag {

namespace {

enum class Output { kSvg, kFolded, kSpeedscope };

class FlameCommand : public Command {
 public:
  CLI::App *setup(CLI::App &app) override {
    CLI::App *sub = app.add_subcommand(
        "flame",
        "Flame graphs from stack reports (text or JSON, of any function), folded stacks or "
        "`perf script` output: interactive SVG, folded stacks or speedscope JSON");
    sub->add_option("-i,--input", inputs_,
                    "input file, repeatable (\"-\": standard input, the default); several "
                    "inputs are merged");
    sub->add_option("files", more_inputs_, "more input files");
    sub->add_option("-o,--output", output_,
                    "output file (default standard output); its extension picks the format: "
                    ".svg, .folded/.txt, .json (speedscope)");
    sub->add_option("--format", format_, "svg, folded or speedscope (overrides the extension)");
    sub->add_option("--input-format", input_format_,
                    "auto (default: from the content), report, json, folded or perf");
    sub->add_option("--baseline", baselines_,
                    "differential graph: compare the inputs against this input (repeatable); "
                    "red frames grew, blue frames shrank");
    sub->add_option("--title", svg_.title, "title (default \"Flame Graph\")");
    sub->add_option("--subtitle", svg_.subtitle, "second title line");
    sub->add_option("--countname", svg_.countname, "what the counts are (default \"samples\")");
    sub->add_option("--width", svg_.width, "image width in pixels (default 1200)")
        ->check(CLI::Range(100.0, 100000.0));
    sub->add_option("--height", svg_.frame_height, "frame height in pixels (default 16)")
        ->check(CLI::Range(4.0, 100.0));
    sub->add_option("--fontsize", svg_.font_size, "font size in pixels (default 12)")
        ->check(CLI::Range(4.0, 72.0));
    sub->add_option("--fonttype", svg_.font, "font family (default Verdana)");
    sub->add_option("--minwidth", minwidth_,
                    "frames narrower than this are not drawn: pixels, or a percent of the "
                    "total such as 0.5% (default 0.1)");
    sub->add_option("--colors,--palette", palette_,
                    "hot (default), mem or io; kernel frames always take a hue of their own");
    sub->add_flag("--reverse", build_.reverse, "reverse the stacks: merge on the innermost frames");
    sub->add_flag("--inverted", svg_.inverted, "icicle graph: roots at the top");
    sub->add_flag("--flamechart", build_.flamechart,
                  "flame chart: keep the input's order instead of sorting and merging by name");
    sub->add_flag("--negate", svg_.negate, "differential: swap the red and blue hues");
    sub->add_flag("--per-pid", read_.per_pid, "one root frame per process: comm[pid]");
    sub->add_flag("--per-cgroup", read_.per_cgroup, "the cgroup as a root frame above the process");
    // perf script input, folded as stackcollapse-perf.pl folds it; these are its options
    auto perf = [&](CLI::Option *o) { return o->group("perf script input"); };
    perf(sub->add_flag("--pid", read_.perf.pid, "root frame comm-PID (as stackcollapse-perf.pl --pid)"));
    perf(sub->add_flag("--tid", read_.perf.tid,
                       "root frame comm-PID/TID (as stackcollapse-perf.pl --tid)"));
    perf(sub->add_flag("--kernel", read_.perf.kernel, "kernel frames end in _[k]"));
    perf(sub->add_flag("--jit", read_.perf.jit, "frames of /tmp/perf-PID.map end in _[j]"));
    perf(sub->add_flag("--all", all_annotations_, "--kernel and --jit"));
    perf(sub->add_flag("--addrs", read_.perf.addrs,
                       "unresolved frames name their address: [module <addr>]"));
    perf(sub->add_option("--event-filter", read_.perf.event_filter,
                         "fold the samples of this event only (default: the first event seen)"));
    perf(sub->add_flag("--keep-args", read_.perf.keep_args,
                       "keep argument lists: f(int) is not cut to f"));
    sub->footer(
        "Inputs are told apart by their content: stack reports (kprobe --report, keytime, ... in "
        "text or --format json), folded stacks (\"a;b;c 42\", or \"a;b;c 40 42\" for a "
        "differential), and perf script output.\nExit status: 0 ok, 1 an input could not be "
        "read or the output written, 2 bad usage, 4 an input is malformed, holds no stack or "
        "exceeds a limit (docs/input-limits.md).");
    return sub;
  }

  int run() override {
    Output out = output_kind();
    auto input_format = flame::parse_input_format(input_format_);
    if (!input_format)
      throw UsageError("--input-format: '" + input_format_ +
                       "' is not one of auto, report, json, folded, perf");
    auto palette = flame::parse_palette(palette_);
    if (!palette) throw UsageError("--colors: '" + palette_ + "' is not one of hot, mem, io");
    svg_.palette = *palette;
    parse_minwidth();
    read_.format = *input_format;
    if (all_annotations_) read_.perf.kernel = read_.perf.jit = true;

    std::vector<std::string> inputs = inputs_;
    inputs.insert(inputs.end(), more_inputs_.begin(), more_inputs_.end());
    if (inputs.empty()) inputs.push_back("-");

    flame::Profile profile(build_);
    if (!baselines_.empty()) profile.set_differential();
    try {
      for (const auto &path : inputs) read(path, profile, false);
      for (const auto &path : baselines_) read(path, profile, true);
    } catch (const flame::FormatError &e) {
      std::cerr << "diagnose-tools flame: " << printable(e.what()) << '\n';
      return kExitMalformed;
    } catch (const flame::InputError &e) {
      std::cerr << "diagnose-tools flame: " << printable(e.what()) << '\n';
      return kExitFailed;
    }
    profile.finish();

    std::ofstream file;
    std::ostream *os = &std::cout;
    if (!output_.empty() && output_ != "-") {
      file.open(output_, std::ios::binary | std::ios::trunc);
      if (!file) {
        std::cerr << "diagnose-tools flame: cannot write " << output_ << '\n';
        return kExitFailed;
      }
      os = &file;
    }
    switch (out) {
      case Output::kSvg: flame::write_svg(profile, svg_, *os); break;
      case Output::kFolded: flame::write_folded(profile, *os); break;
      case Output::kSpeedscope:
        flame::write_speedscope(profile, svg_.title.empty() ? "diagnose-tools flame" : svg_.title,
                                *os);
        break;
    }
    os->flush();
    if (!*os) {
      std::cerr << "diagnose-tools flame: writing " << (output_.empty() ? "<stdout>" : output_)
                << " failed\n";
      return kExitFailed;
    }
    return kExitOk;
  }

 private:
  Output output_kind() const {
    std::string f = format_;
    if (f.empty()) {
      auto ends = [&](const char *ext) { return output_.ends_with(ext); };
      if (output_.empty() || output_ == "-" || ends(".svg"))
        f = "svg";
      else if (ends(".folded") || ends(".collapsed") || ends(".txt"))
        f = "folded";
      else if (ends(".json"))
        f = "speedscope";
      else
        throw UsageError("cannot tell the output format from '" + output_ +
                         "': give --format svg, folded or speedscope");
    }
    if (f == "svg") return Output::kSvg;
    if (f == "folded") return Output::kFolded;
    if (f == "speedscope") return Output::kSpeedscope;
    throw UsageError("--format: '" + f + "' is not one of svg, folded, speedscope");
  }

  void parse_minwidth() {
    std::string s = minwidth_;
    svg_.min_width_percent = !s.empty() && s.back() == '%';
    if (svg_.min_width_percent) s.pop_back();
    size_t used = 0;
    try {
      svg_.min_width = std::stod(s, &used);
    } catch (const std::exception &) {
      used = 0;
    }
    if (used == 0 || used != s.size() || svg_.min_width < 0 ||
        (svg_.min_width_percent && svg_.min_width > 100))
      throw UsageError("--minwidth: '" + minwidth_ + "' is not a width in pixels or a percent");
  }

  void read(const std::string &path, flame::Profile &profile, bool baseline) {
    flame::ReadOptions o = read_;
    o.baseline = baseline;
    flame::ReadStats s = flame::read_input(path, profile, o);
    std::string label = path == "-" ? "<stdin>" : path;
    if (s.ignored_lines)
      std::cerr << "diagnose-tools flame: " << printable(label) << ": ignored " << s.ignored_lines
                << " lines that are not part of a stack\n";
    if (read_.per_pid && !s.has_pid)
      std::cerr << "diagnose-tools flame: " << printable(label) << ": no process ids in this "
                << flame::input_format_name(s.format) << " input; --per-pid has no effect\n";
    if (s.format == flame::InputFormat::kPerf) {
      if ((read_.perf.pid || read_.perf.tid) && !s.has_pid)
        std::cerr << "diagnose-tools flame: " << printable(label)
                  << ": no process ids in this perf input (only thread ids), so the root frames "
                     "read comm-?; record them with perf script -F comm,pid,tid,...\n";
      if (s.other_event_samples)
        std::cerr << "diagnose-tools flame: " << printable(label) << ": kept the samples of "
                  << printable(s.event) << " only; left out " << s.other_event_samples
                  << " samples of other events (" << printable(s.other_event)
                  << ", ...): choose with --event-filter\n";
    }
    if (read_.per_cgroup && !s.has_cgroup)
      std::cerr << "diagnose-tools flame: " << printable(label) << ": no cgroups in this "
                << flame::input_format_name(s.format) << " input; "
                << (s.format == flame::InputFormat::kFolded ? "--per-cgroup has no effect\n"
                                                            : "its stacks go under [no cgroup]\n");
  }

  std::vector<std::string> inputs_, more_inputs_, baselines_;
  std::string output_, format_, input_format_ = "auto", palette_ = "hot", minwidth_ = "0.1";
  flame::SvgOptions svg_;
  flame::BuildOptions build_;
  flame::ReadOptions read_;
  bool all_annotations_ = false;
};

}  // namespace

std::unique_ptr<Command> make_flame_command() { return std::make_unique<FlameCommand>(); }

}  // namespace diag
