# SPDX-License-Identifier: GPL-2.0
#
# af_custom: the make targets people use. Kbuild reads ./Kbuild, not this
# file; this is only the wrapper around it and around the test VM.
#
#   make                  build af_custom.ko (make W=1, make C=2 pass through)
#   make check            the selftests in a QEMU VM; ends "N passed, N failed"
#   make check TESTS="cu_listen cu_accept"   only those programs
#   make demo             the listen() demo in a QEMU VM
#   make clean
#
# Which kernel:
#   KVER=RELEASE|SERIES   e.g. KVER=6.1.0-56-amd64 or KVER=6.12
#   KDIR=DIR              a kernel build tree (its release is then booted)
# `make` builds for the running kernel when its headers are installed, as
# any out-of-tree module does, and otherwise for the newest installed 6.1
# Debian kernel. `make check` and `make demo` always boot a kernel chosen
# explicitly: KVER or KDIR when given, else the newest installed 6.1 (never
# "the newest in /boot", which may be 6.12). See scripts/kver.sh.

RUNNING_KVER := $(shell uname -r)
ifeq ($(origin KVER),undefined)
KVER = $(if $(wildcard /lib/modules/$(RUNNING_KVER)/build),$(RUNNING_KVER),6.1)
endif
# Deferred: only computed by the targets that build.
KRELEASE = $(shell scripts/kver.sh $(KVER) 2>/dev/null)
KDIR ?= /lib/modules/$(KRELEASE)/build

BUILD := $(CURDIR)/build

.PHONY: all modules clean check demo deps selftests tools help

all: modules

modules:
	@if [ ! -d "$(KDIR)/" ] || [ "$(KDIR)" = /lib/modules//build ]; then \
		echo "make: no kernel build tree for KVER=$(KVER) (KDIR=$(KDIR))." >&2; \
		echo "make: install the headers (scripts/deps.sh) or pass KDIR=." >&2; \
		exit 1; \
	fi
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# The selftests and tools, built on the host as the VM runner builds them
# (static binaries in build/).
selftests:
	$(MAKE) -C selftests OUTPUT=$(BUILD)/selftests \
		KSFT_DIR=$$(scripts/ksft-headers.sh)

tools:
	$(MAKE) -C tools OUTPUT=$(BUILD)/tools

deps:
	@scripts/deps.sh

# KVER, KDIR, TESTS, W and C reach vm.sh through the environment only when
# given on the command line or in the environment, never as the defaults
# above: vm.sh makes its own choice of kernel.
check: deps
	@scripts/vm.sh check

demo: deps
	@scripts/vm.sh demo

clean:
	@if [ -d "$(KDIR)/" ] && [ "$(KDIR)" != /lib/modules//build ]; then \
		$(MAKE) -C $(KDIR) M=$(CURDIR) clean; \
	else \
		rm -f af_custom.ko af_custom.mod af_custom.mod.c af_custom.o \
			Module.symvers modules.order .*.cmd module/*.o module/.*.cmd; \
	fi
	rm -rf $(BUILD)

help:
	@sed -n '3,21s/^# \{0,1\}//p' Makefile
