# SPDX-License-Identifier: GPL-2.0
#
# ktls-attest top-level build.
#
#   make            build the kernel module and every userspace part
#   make check      install missing dependencies, build, run host and VM tests
#   make deps       install missing Debian packages (tools/deps)
#   make style      checkpatch and sparse on the module
#   make bench      build the module and the benchmark, run it in the test VM
#                   (not part of check; BENCH_ARGS go to gate-bench)
#   make ksft-tls   the kernel's own kTLS selftest, all of it, through the
#                   gate in the test VM (check runs two of its variants;
#                   KSFT_TLS_ARGS go to selftests/ksft-tls, e.g. --plain)
#
# KVER / KDIR default to the newest installed kernel that has both an image
# and headers (tools/kver); override either on the command line.

KVER ?= $(shell tools/kver 2>/dev/null)
KDIR ?= /lib/modules/$(KVER)/build
KSRC_TAR ?= $(firstword $(wildcard /usr/src/linux-source-*.tar.xz))

B := build
CC ?= gcc
WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
CPPFLAGS += -Iuapi -isystem $(B)/ksft -D_GNU_SOURCE

.PHONY: all module userspace check deps gen style style-checkpatch style-sparse \
	bench bench-build ksft-tls clean
all: module userspace

# --- userspace: test programs ---------------------------------------------

SELFTESTS := tpm_basic stacking module_unload gate gate_netlink gate_life relay race
SELFTEST_BINS := $(addprefix $(B)/selftests/,$(SELFTESTS)) $(B)/selftests/katt-agent
KTLS_LIB := selftests/lib/ktls.c selftests/lib/ktls.h
KATT_NL_LIB := selftests/lib/katt_nl.c selftests/lib/katt_nl.h

pc_libs = $(shell pkg-config --libs $(1) 2>/dev/null)
CPPFLAGS += $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)

$(B)/selftests/tpm_basic: LDLIBS += $(call pc_libs,tss2-esys tss2-tctildr tss2-rc libcrypto)
KATT_TEST_LIB := selftests/lib/katt_test.c selftests/lib/katt_test.h \
	selftests/lib/katt_harness.h
GATE_TESTS := $(addprefix $(B)/selftests/,gate gate_netlink gate_life race)
NL_TESTS := $(GATE_TESTS) $(addprefix $(B)/selftests/,stacking module_unload)

$(NL_TESTS): $(KTLS_LIB) $(KATT_NL_LIB)
$(NL_TESTS): LDLIBS += $(call pc_libs,libnl-genl-3.0)
$(GATE_TESTS): $(KATT_TEST_LIB)
# gate seals TLS 1.3 records itself (empty records kTLS does not send)
$(B)/selftests/gate: LDLIBS += $(call pc_libs,libcrypto)
# race: the races of the local application, in threads
$(B)/selftests/race: LDLIBS += -lpthread

# relay: two namespaces, each with its own katt-agent (a program it spawns)
KATT_RELAY_LIB := selftests/lib/katt_netns.c selftests/lib/katt_netns.h \
	selftests/lib/katt_agentctl.c selftests/lib/katt_agentctl.h
$(B)/selftests/relay: $(KTLS_LIB) $(KATT_NL_LIB) $(KATT_TEST_LIB) $(KATT_RELAY_LIB)
$(B)/selftests/relay: LDLIBS += $(call pc_libs,libnl-genl-3.0)
$(B)/selftests/katt-agent: selftests/katt_agent.c $(KTLS_LIB) $(KATT_NL_LIB) \
		uapi/linux/ktls_attest.h uapi/linux/ktls_attest_netlink.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $(filter %.c,$^) \
		$(call pc_libs,libnl-genl-3.0)

$(B)/selftests/%: selftests/%.c $(B)/ksft/kselftest_harness.h \
		uapi/linux/ktls_attest.h uapi/linux/ktls_attest_netlink.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $(filter %.c,$^) $(LDLIBS)

# --- the kernel's own kTLS selftest, through the gate (selftests/ksft-tls) --

# tools/testing/selftests/net/tls.c as the kernel's net/Makefile builds it
# (-Wall -Wl,--no-as-needed -O2 -g; the uAPI headers are Debian's
# linux-libc-dev of the same version), unmodified, next to the
# ../kselftest_harness.h it includes; with the compat header that supplies
# two helpers Debian's 6.1 copy calls but does not have (it says which).
KSFT_TLS := $(B)/ksft/net/tls
$(KSFT_TLS): $(B)/ksft/net/tls.c selftests/ksft_tls_compat.h \
		$(B)/ksft/kselftest_harness.h $(B)/ksft/kselftest.h
	$(CC) -Wall -Wl,--no-as-needed -O2 -g \
		-include selftests/ksft_tls_compat.h -o $@ $<

# LD_PRELOAD shim that arms every socket of it and passes it
KSFT_TLS_SHIM := $(B)/selftests/ktls_passed_shim.so
$(KSFT_TLS_SHIM): selftests/ktls_passed_shim.c $(KATT_NL_LIB) \
		uapi/linux/ktls_attest.h uapi/linux/ktls_attest_netlink.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -fPIC -shared -fvisibility=hidden \
		-o $@ $(filter %.c,$^) $(call pc_libs,libnl-genl-3.0) -ldl

# LD_PRELOAD shim that gives 6.1's harness what it lacks: leaving tests
# out by name, another per-test timeout
KSFT_HARNESS_SHIM := $(B)/selftests/ksft_harness_shim.so
$(KSFT_HARNESS_SHIM): selftests/ksft_harness_shim.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -fPIC -shared -fvisibility=hidden \
		-o $@ $< -ldl

KSFT_TLS_BINS := $(KSFT_TLS) $(KSFT_TLS_SHIM) $(KSFT_HARNESS_SHIM)
userspace: $(SELFTEST_BINS) $(KSFT_TLS_BINS)

# --- benchmark (not a test: numbers go to Documentation/benchmarks.rst) ---

BENCH_BIN := $(B)/bench/gate-bench
$(BENCH_BIN): tools/bench/gate-bench.c $(KTLS_LIB) $(KATT_NL_LIB) \
		uapi/linux/ktls_attest.h uapi/linux/ktls_attest_netlink.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iselftests/lib $(CFLAGS) $(WARN) -o $@ \
		$(filter %.c,$^) $(call pc_libs,libnl-genl-3.0) -lpthread -lm

bench-build: $(BENCH_BIN)

# Boots the test VM once and prints the table (about 2.5 minutes).
BENCH_ARGS ?=
bench: deps
	$(MAKE) module bench-build
	tools/bench/run $(BENCH_ARGS)

# --- tests ----------------------------------------------------------------

# The whole of tools/testing/selftests/net/tls.c through the gate, in one
# boot of the test VM (about 9 minutes; make check runs the variants
# 12_aes_gcm and 13_aes_gcm of it).  KSFT_TLS_ARGS=--plain: plain kTLS, the
# baseline.
KSFT_TLS_ARGS ?=
ksft-tls: deps
	$(MAKE) module userspace
	tools/vm/run -t 3600 --cmdline slub_debug=FZPU -- sh -c 'modprobe tls && \
		insmod kmod/ktls_attest.ko && selftests/ksft-tls $(KSFT_TLS_ARGS)'

# Installs what is missing first (Debian 12, as root), then builds with the
# freshly installed tools and libraries, then runs selftests/check.
check: deps
	$(MAKE) all
	selftests/check

module:
	@test -n "$(KVER)" || { tools/kver; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

# kselftest_harness.h and kselftest.h, and the kernel's own kTLS selftest
# net/tls.c, come from the distribution's kernel source at build time (one
# pass over the tarball); no kernel file is kept in this repository.
KSFT_FILES := $(addprefix $(B)/ksft/,kselftest_harness.h kselftest.h net/tls.c)
$(KSFT_FILES) &:
	@test -n "$(KSRC_TAR)" || { echo "missing Debian package: linux-source-6.1"; exit 1; }
	@mkdir -p $(B)/ksft
	tar -xJf $(KSRC_TAR) -C $(B)/ksft --strip-components=4 --wildcards \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h' \
		'*/tools/testing/selftests/net/tls.c'
	@touch $(KSFT_FILES)

# checkpatch.pl and its data files, from the same kernel source package
CHECKPATCH := $(B)/ksrc/scripts/checkpatch.pl
$(CHECKPATCH):
	@test -n "$(KSRC_TAR)" || { echo "missing Debian package: linux-source-6.1"; exit 1; }
	@mkdir -p $(B)/ksrc
	tar -xJf $(KSRC_TAR) -C $(B)/ksrc --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
	@touch $@

# CONST_STRUCT: the per-socket proto_ops copies are writable by design.
# compat.h is where LINUX_VERSION_CODE belongs.
KMOD_SRC := $(filter-out %.mod.c,$(wildcard kmod/*.c)) \
	$(filter-out kmod/compat.h,$(wildcard kmod/*.h)) $(wildcard uapi/linux/*.h)
style: style-checkpatch style-sparse
style-checkpatch: $(CHECKPATCH)
	$(CHECKPATCH) --no-tree --strict --show-types --terse --quiet \
		--ignore CONST_STRUCT -f $(KMOD_SRC)
	$(CHECKPATCH) --no-tree --strict --show-types --terse --quiet \
		--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON -f kmod/compat.h
style-sparse:
	$(MAKE) -C $(KDIR) M=$(CURDIR) C=2 CF="-D__CHECK_ENDIAN__" modules

deps:
	tools/deps install

# The netlink uAPI header and the kernel's policies and op table follow
# from the YAML spec.  The outputs are committed (a build needs no
# python3-yaml) and selftests/host/nlspec-gen.sh fails if they are stale.
NLSPEC := Documentation/netlink/specs/ktls_attest.yaml
gen:
	tools/nlspec-gen $(NLSPEC) --mode uapi -o uapi/linux/ktls_attest_netlink.h
	tools/nlspec-gen $(NLSPEC) --mode kernel-c -o kmod/netlink_gen.c
	tools/nlspec-gen $(NLSPEC) --mode kernel-h -o kmod/netlink_gen.h

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(B)
