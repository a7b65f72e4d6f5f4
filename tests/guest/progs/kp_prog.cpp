// SPDX-License-Identifier: GPL-2.0-or-later
// kp_prog: a C++ program whose path into the kernel is known, for the
// kprobe guest tests and the symbolizer benchmark.
//
//   kp_prog DIR N [exit|wait] [COMM]
//
// Writes "pid TGID" to DIR/pid (renaming itself to COMM first when given),
// waits for DIR/go, then N times calls
//   main -> run_workload -> kp::Outer::level1 -> kp::Middle<int>::level2
//        -> kp::level3 -> kp::do_read -> read(2) of /dev/zero
// and in between, a number of times of its own choosing (1..7 per pid),
//   main -> run_workload -> kp::side_read -> read(2)
// writes "chain N side M" to DIR/done, and then exits at once ("exit", the
// default) or waits for DIR/quit ("wait").  Every function on the chain is
// out of line and does work after its call, so each keeps a frame of its
// own.
//
//   kp_prog --bench SECONDS
//
// Runs a mixed workload for the symbolizer benchmark: sorting, maps,
// strings and streams (libstdc++), formatting, allocation and qsort (libc).
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#define NOINLINE __attribute__((noinline))

static volatile long sink;
static int zero_fd = -1;

namespace kp {

NOINLINE long do_read(int n) {
  char buf[64];
  long r = read(zero_fd, buf, sizeof(buf) - (n & 7));
  sink = sink + r;
  return r;
}

NOINLINE long level3(int n) {
  long r = do_read(n);
  sink = sink + 3;
  return r + 1;
}

template <typename T>
struct Middle {
  NOINLINE static long level2(T n) {
    long r = level3(static_cast<int>(n));
    sink = sink + 2;
    return r + 1;
  }
};

NOINLINE long side_read(int n) {
  char buf[16];
  long r = read(zero_fd, buf, sizeof(buf) - (n & 3));
  sink = sink + r;
  return r;
}

class Outer {
 public:
  NOINLINE long level1(int n) {
    long r = Middle<int>::level2(n);
    sink = sink + 1;
    return r + 1;
  }
};

}  // namespace kp

NOINLINE static int run_workload(int n) {
  kp::Outer o;
  long total = 0;
  int side = 1 + getpid() % 7;
  for (int i = 0; i < n; ++i) {
    total += o.level1(i);
    if (side > 0 && i % (n / side + 1) == 0) {
      total += kp::side_read(i);
      --side;
    }
  }
  sink = sink + total;
  return 1 + getpid() % 7 - side;
}

static bool exists(const std::string &p) { return access(p.c_str(), F_OK) == 0; }

static void wait_for(const std::string &p) {
  while (!exists(p)) usleep(2000);
}

static void write_file(const std::string &p, const std::string &text) {
  std::string tmp = p + ".tmp";
  FILE *f = std::fopen(tmp.c_str(), "w");
  if (!f) std::exit(1);
  std::fputs(text.c_str(), f);
  std::fclose(f);
  std::rename(tmp.c_str(), p.c_str());
}

// ---- benchmark workload ----

NOINLINE static void bench_strings(std::mt19937 &rng) {
  std::ostringstream os;
  for (int i = 0; i < 200; ++i) os << rng() << ' ' << static_cast<double>(rng()) / 3.0 << '\n';
  std::string s = os.str();
  size_t n = 0;
  for (size_t p = s.find(' '); p != std::string::npos; p = s.find(' ', p + 1)) ++n;
  std::istringstream is(s);
  double d;
  while (is >> d) sink = sink + static_cast<long>(d);
  sink = sink + static_cast<long>(n);
}

NOINLINE static void bench_containers(std::mt19937 &rng) {
  std::map<std::string, int> m;
  std::vector<long> v;
  for (int i = 0; i < 500; ++i) {
    m[std::to_string(rng() % 1000)] += i;
    v.push_back(static_cast<long>(rng()));
  }
  std::sort(v.begin(), v.end());
  sink = sink + static_cast<long>(m.size()) + v[v.size() / 2];
}

static int cmp_long(const void *a, const void *b) {
  long x = *static_cast<const long *>(a), y = *static_cast<const long *>(b);
  return (x > y) - (x < y);
}

NOINLINE static void bench_libc(std::mt19937 &rng) {
  char buf[256];
  long arr[256];
  for (int i = 0; i < 256; ++i) arr[i] = static_cast<long>(rng());
  qsort(arr, 256, sizeof(long), cmp_long);
  for (int i = 0; i < 50; ++i) {
    snprintf(buf, sizeof(buf), "%d %f %s %lx", i, i / 7.0, "text", arr[i]);
    char *p = strdup(buf);
    sink = sink + static_cast<long>(strtod(p + 2, nullptr)) + static_cast<long>(strlen(p));
    free(p);
  }
}

static int bench(double seconds) {
  std::mt19937 rng(42);
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    bench_strings(rng);
    bench_containers(rng);
    bench_libc(rng);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && !std::strcmp(argv[1], "--bench")) return bench(std::atof(argv[2]));
  if (argc < 3) {
    std::fprintf(stderr, "usage: kp_prog DIR N [exit|wait] [COMM] | kp_prog --bench SECONDS\n");
    return 2;
  }
  std::string dir = argv[1];
  int n = std::atoi(argv[2]);
  bool wait_quit = argc > 3 && !std::strcmp(argv[3], "wait");
  if (argc > 4) prctl(PR_SET_NAME, argv[4], 0, 0, 0);
  zero_fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
  if (zero_fd < 0) return 1;
  write_file(dir + "/pid", "pid " + std::to_string(getpid()) + "\n");
  wait_for(dir + "/go");
  int side = run_workload(n);
  write_file(dir + "/done", "chain " + std::to_string(n) + " side " + std::to_string(side) + "\n");
  if (wait_quit) wait_for(dir + "/quit");
  return 0;
}
