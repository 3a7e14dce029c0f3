# SPDX-License-Identifier: GPL-2.0
#
# af_custom: the make targets people use. Kbuild reads ./Kbuild, not this
# file; this is only the wrapper around it and around the test VM.
#
#   make                  build af_custom.ko (make W=1, make C=2 pass through)
#   make check            the selftests in a QEMU VM; ends "N passed, N failed"
#   make check TESTS="cu_listen cu_accept"   only those programs
#   make check-packaging  man pages, versions, make install, the kernel's kselftest
#                         runner in a kernel tree; ends "N passed, N failed"
#   make check-debug      the selftests, the KUnit tests and a kmemleak scan on a
#                         debug kernel (KASAN, lockdep, UBSAN, kmemleak, failslab)
#                         built once into ~/.cache/af_custom (scripts/debug-kernel.sh)
#   make check-debug KERNEL=kcsan   the same on the KCSAN (data-race) debug kernel,
#                         which fails on a KCSAN report involving af_custom
#   make demo             the listen() demo in a QEMU VM
#   make bench            the benchmark in a QEMU VM; results in docs/bench/
#   make bench PROFILE=1  perf profiles of its cases, AF_CUSTOM and AF_UNIX
#   make install          module (then depmod), uapi header, man pages, cunc, cuss; DESTDIR=
#   make uninstall        the same files removed; DESTDIR=
#   make check-dkms       dkms add/build/install/remove for every installed
#                         kernel with headers (root; leaves DKMS as it was)
#   make dkms-src         copy the sources to /usr/src/af_custom-VERSION for DKMS
#   make sign             sign af_custom.ko (MOK_KEY=, MOK_CERT=; Secure Boot)
#   make clean
#
# Which kernel:
#   KVER=RELEASE|SERIES   e.g. KVER=6.1.0-56-amd64 or KVER=6.12
#   KDIR=DIR              a kernel build tree (its release is then booted)
# `make` builds for the running kernel when its headers are installed, as
# any out-of-tree module does, and otherwise for the newest installed 6.1
# Debian kernel. `make check` and `make demo` always boot a kernel chosen
# explicitly: KVER or KDIR when given, else the newest installed 6.1 (never
# "the newest in /boot", which may be 6.12). A KVER that is not installed
# is looked up in the kernel cache (make check KVER=6.12 fetches it there,
# without installing it). See scripts/kver.sh and scripts/kernel-fetch.sh.

RUNNING_KVER := $(shell uname -r)
ifeq ($(origin KVER),undefined)
KVER = $(if $(wildcard /lib/modules/$(RUNNING_KVER)/build),$(RUNNING_KVER),6.1)
endif
# Deferred: only computed by the targets that build.
KRELEASE = $(shell scripts/kver.sh $(KVER) 2>/dev/null)
KDIR ?= $(shell scripts/kver.sh --kdir $(KVER) 2>/dev/null)

BUILD := $(CURDIR)/build

.PHONY: all modules clean check demo deps selftests tools help bench

all: modules

modules:
	@if [ -z "$(KDIR)" ] || [ ! -d "$(KDIR)/" ]; then \
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
# The bindings' tests (selftests/cu_python.sh, cu_go.sh) need Go and
# Debian's python3 with pip and setuptools on the host (scripts/vm.sh).
BINDINGS_PACKAGES := golang-go python3 python3-pip python3-setuptools

check: deps
	@scripts/deps.sh $(BINDINGS_PACKAGES)
	@scripts/vm.sh check

demo: deps
	@scripts/vm.sh demo

# Packaging rather than behaviour: the man pages, the versions, make
# install, the kernel's kselftest runner (scripts/check-packaging.sh).
check-packaging: deps
	@scripts/check-packaging.sh

.PHONY: check-packaging

# The debug kernel is built from Debian's linux-source-6.1 (about 20
# minutes the first time; then cached, keyed by its config fragment).
# KERNEL=kasan (default) or kcsan picks it; only a KERNEL given on the
# command line counts, never one from the environment.
DEBUG_KERNEL_VARIANT = $(if $(filter command line,$(origin KERNEL)),$(KERNEL),kasan)

check-debug: debug-kernel
	@scripts/deps.sh $(BINDINGS_PACKAGES)
	@DEBUG_KERNEL=$(DEBUG_KERNEL_VARIANT) scripts/vm.sh check-debug

debug-kernel:
	@scripts/deps.sh flex bison bc libelf-dev
	@DEBUG_KERNEL=$(DEBUG_KERNEL_VARIANT) scripts/debug-kernel.sh >/dev/null

.PHONY: check-debug debug-kernel

# Not part of check (minutes, and timings are noisy). BENCH_ARGS="..." are
# cu_bench options (a partial run leaves docs/bench/ alone); BENCH_TIME=S
# the seconds of a timed repetition (default 1). PROFILE=1:
# perf profiles of the cases instead (tools/cu_profile.sh, docs/bench.md).
bench:
	@scripts/deps.sh gnuplot-nox $(if $(PROFILE),linux-perf)
	@scripts/vm.sh bench

# ---- installing ------------------------------------------------------------
# make install and make uninstall honour DESTDIR (packagers, the test VM):
# the module goes to /lib/modules/RELEASE/updates/ (then depmod -a RELEASE,
# unless DESTDIR is set), the uapi header to INCLUDEDIR/linux, the man pages
# to MANDIR/man7, man1 and man8, the tools named in INSTALL_TOOLS to BINDIR. RELEASE is
# the kernel chosen as for make (KVER=, KDIR=); install first builds
# af_custom.ko when it is missing or was built for another kernel.
PREFIX ?= /usr
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
BINDIR ?= $(PREFIX)/bin
DEPMOD ?= depmod
# Programs of tools/ that make install puts in BINDIR, with their man
# pages (cu_demo is a demo, cu_bench a benchmark: not installed).
INSTALL_TOOLS := cunc cuss
# The version is written once, as MODULE_VERSION; dkms.conf repeats it and
# make check-packaging (scripts/check-packaging.sh) fails when the two differ.
CU_VERSION = $(shell sed -n 's/^MODULE_VERSION("\([^"]*\)");$$/\1/p' module/af_custom.c)
# The release to install for: KDIR's when KDIR is given, else KVER's.
# (UTS_RELEASE: Debian's 6.1 headers have "6.1.192" in kernel.release.)
INSTALL_KREL = $(if $(filter-out file default undefined,$(origin KDIR)),$(shell sed -n 's/^.define UTS_RELEASE "\(.*\)"$$/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null),$(KRELEASE))
CU_MODDIR = $(DESTDIR)/lib/modules/$$krel/updates

install:
	@set -e; krel='$(INSTALL_KREL)'; \
	if [ -z "$$krel" ]; then \
		echo "make install: no kernel for KVER=$(KVER) KDIR=$(KDIR)" >&2; exit 1; \
	fi; \
	built=$$(modinfo -F vermagic af_custom.ko 2>/dev/null | cut -d' ' -f1); \
	if [ "$$built" != "$$krel" ]; then \
		echo "make install: building af_custom.ko for $$krel first"; \
		$(MAKE) --no-print-directory modules KDIR=$(KDIR); \
	fi; \
	echo "  INSTALL $(CU_MODDIR)/af_custom.ko"; \
	install -D -m 0644 af_custom.ko "$(CU_MODDIR)/af_custom.ko"; \
	echo "  INSTALL $(DESTDIR)$(INCLUDEDIR)/linux/af_custom.h"; \
	install -D -m 0644 uapi/linux/af_custom.h "$(DESTDIR)$(INCLUDEDIR)/linux/af_custom.h"; \
	echo "  INSTALL $(DESTDIR)$(MANDIR)/man7/af_custom.7"; \
	install -D -m 0644 docs/af_custom.7 "$(DESTDIR)$(MANDIR)/man7/af_custom.7"; \
	echo "  INSTALL $(DESTDIR)$(MANDIR)/man1/cunc.1 $(DESTDIR)$(MANDIR)/man8/cuss.8"; \
	install -D -m 0644 docs/cunc.1 "$(DESTDIR)$(MANDIR)/man1/cunc.1"; \
	install -D -m 0644 docs/cuss.8 "$(DESTDIR)$(MANDIR)/man8/cuss.8"; \
	for t in $(INSTALL_TOOLS); do \
		$(MAKE) --no-print-directory -C tools "$(CURDIR)/tools/$$t"; \
		echo "  INSTALL $(DESTDIR)$(BINDIR)/$$t"; \
		install -D -m 0755 "tools/$$t" "$(DESTDIR)$(BINDIR)/$$t"; \
	done; \
	if [ -z "$(DESTDIR)" ]; then \
		echo "  DEPMOD  $$krel"; $(DEPMOD) -a "$$krel"; \
	fi

uninstall:
	@set -e; krel='$(INSTALL_KREL)'; \
	if [ -z "$$krel" ]; then \
		echo "make uninstall: no kernel for KVER=$(KVER) KDIR=$(KDIR)" >&2; exit 1; \
	fi; \
	rm -fv "$(CU_MODDIR)/af_custom.ko" \
		"$(DESTDIR)$(INCLUDEDIR)/linux/af_custom.h" \
		"$(DESTDIR)$(MANDIR)/man7/af_custom.7" \
		"$(DESTDIR)$(MANDIR)/man1/cunc.1" "$(DESTDIR)$(MANDIR)/man8/cuss.8" \
		$(foreach t,$(INSTALL_TOOLS),"$(DESTDIR)$(BINDIR)/$(t)"); \
	rmdir "$(CU_MODDIR)" 2>/dev/null || true; \
	if [ -z "$(DESTDIR)" ] && [ -d "/lib/modules/$$krel" ]; then \
		echo "  DEPMOD  $$krel"; $(DEPMOD) -a "$$krel"; \
	fi

# The sources DKMS builds from (docs/install.md: "With DKMS"), without
# build products: /usr/src/af_custom-VERSION, as dkms.conf names it.
dkms-src:
	@set -e; dst="$(DESTDIR)/usr/src/af_custom-$(CU_VERSION)"; \
	conf=$$(sed -n 's/^PACKAGE_VERSION="\([^"]*\)"$$/\1/p' dkms.conf); \
	if [ "$$conf" != "$(CU_VERSION)" ]; then \
		echo "make dkms-src: dkms.conf says $$conf, MODULE_VERSION $(CU_VERSION)" >&2; exit 1; \
	fi; \
	rm -rf "$$dst"; mkdir -p "$$dst/scripts"; \
	cp dkms.conf Kbuild Makefile "$$dst/"; cp scripts/kver.sh "$$dst/scripts/"; \
	find module uapi -name '*.[ch]' -exec cp --parents {} "$$dst/" \;; \
	echo "make dkms-src: $$dst"

check-dkms:
	@scripts/dkms-test.sh

# Sign af_custom.ko for a kernel that enforces module signatures (Secure
# Boot): with DKMS's key by default, which mokutil --import enrols.
# sign-file asks for the key's passphrase, or reads it from KBUILD_SIGN_PIN.
MOK_KEY ?= /var/lib/dkms/mok.key
MOK_CERT ?= /var/lib/dkms/mok.pub
sign:
	@if [ ! -r "$(MOK_KEY)" ] || [ ! -r "$(MOK_CERT)" ]; then \
		echo "make sign: no key: set MOK_KEY=<private key> MOK_CERT=<DER certificate>" \
		     "(enrolled with mokutil --import; docs/install.md, Secure Boot)" >&2; \
		exit 1; \
	fi
	@[ -f af_custom.ko ] || { echo "make sign: no af_custom.ko: run make first" >&2; exit 1; }
	$(KDIR)/scripts/sign-file sha256 "$(MOK_KEY)" "$(MOK_CERT)" af_custom.ko
	@echo "make sign: af_custom.ko signed by $$(modinfo -F signer af_custom.ko)"

.PHONY: install uninstall dkms-src check-dkms sign

# Kbuild's clean deletes every *.mod under M=, and the Go binding's
# go.mod is one: it is kept aside meanwhile.
GO_MOD := bindings/go/go.mod

clean:
	@keep=$$(mktemp) && cp $(GO_MOD) "$$keep" && \
	if [ -d "$(KDIR)/" ] && [ "$(KDIR)" != /lib/modules//build ]; then \
		$(MAKE) -C $(KDIR) M=$(CURDIR) clean; \
	else \
		rm -f af_custom.ko af_custom.mod af_custom.mod.c af_custom.o \
			Module.symvers modules.order .*.cmd module/*.o module/.*.cmd; \
	fi; \
	status=$$?; cp "$$keep" $(GO_MOD); rm -f "$$keep"; exit $$status
	rm -rf $(BUILD)

help:
	@sed -n '3,/^[^#]/s/^# \{0,1\}//p' Makefile
