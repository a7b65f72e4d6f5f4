# SPDX-License-Identifier: GPL-2.0-or-later
# diagnose-tools: top-level build.
#
#   make             build diagnose.ko and the diagnose-tools CLI (needs only
#                    a compiler, the kernel headers for KDIR and the CLI's
#                    libraries; a missing one is named with its package)
#   make deps-build  install just those (as root)
#   make deps        install everything the tests need (idempotent, as root)
#   make demo        install what the demo needs, build, and show a real
#                    migrate-image report (in the guest if the host cannot
#                    load modules)
#   make test        the test suite (same as ./test.sh)

BUILD   ?= build
KDIR    ?= $(shell scripts/kdir.sh 2>/dev/null)
CMAKE_BUILD_TYPE ?= RelWithDebInfo
# the CLI's unit tests: AUTO builds them when GoogleTest is installed
CLI_TESTS ?= AUTO
CLI_BIN := $(BUILD)/cli/diagnose-tools

.PHONY: all deps deps-build module cli progs test demo clean

all: module cli

deps:
	scripts/deps.sh test

deps-build:
	KDIR=$(KDIR) scripts/deps.sh build

module:
	@KDIR=$(KDIR) scripts/deps.sh --check module
	$(MAKE) -C module KDIR=$(KDIR)

cli:
	@scripts/deps.sh --check cli
	@cmake -S cli -B $(BUILD)/cli -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) \
		-DDIAG_BUILD_TESTS=$(CLI_TESTS) >/dev/null
	cmake --build $(BUILD)/cli -j$$(nproc)
	@ln -sf cli/diagnose-tools $(BUILD)/diagnose-tools

test: all
	./test.sh

progs:
	$(MAKE) -s -C tests/guest/progs OUT=$(CURDIR)/$(BUILD)/tests

# the demo installs what it is missing first (fresh machines)
demo:
	scripts/deps.sh demo
	$(MAKE) all progs
	scripts/demo.sh

clean:
	-$(MAKE) -C module KDIR=$(KDIR) clean
	rm -rf $(BUILD)
