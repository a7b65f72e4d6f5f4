# diagnose-tools: top-level build.
#
#   make deps    install every Debian package needed (idempotent, as root)
#   make         build diagnose.ko and the diagnose-tools CLI
#   make demo    install what is missing, build, and show a real
#                migrate-image report (in the guest if the host cannot
#                load modules)
#   make test    the test suite (same as ./test.sh)

BUILD   ?= build
KDIR    ?= $(shell scripts/kdir.sh 2>/dev/null)
CMAKE_BUILD_TYPE ?= RelWithDebInfo
CLI_BIN := $(BUILD)/cli/diagnose-tools

.PHONY: all deps check-deps module cli progs test demo clean

all: module cli

deps:
	scripts/deps.sh

check-deps:
	@scripts/deps.sh --check

module: check-deps
	@test -n "$(KDIR)" || { echo "no kernel build tree found (run: make deps)" >&2; exit 1; }
	$(MAKE) -C module KDIR=$(KDIR)

cli: check-deps
	@cmake -S cli -B $(BUILD)/cli -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) >/dev/null
	cmake --build $(BUILD)/cli -j$$(nproc)
	@ln -sf cli/diagnose-tools $(BUILD)/diagnose-tools

test: all
	./test.sh

progs:
	$(MAKE) -s -C tests/guest/progs OUT=$(CURDIR)/$(BUILD)/tests

# the demo and the tests install what is missing first (fresh machines)
demo: deps
	$(MAKE) all progs
	scripts/demo.sh

clean:
	-$(MAKE) -C module KDIR=$(KDIR) clean
	rm -rf $(BUILD)
