# SPDX-License-Identifier: GPL-2.0
#
# ktls-attest top-level build.
#
#   make            build the kernel module and every userspace part
#   make check      install missing dependencies, build, run host and VM tests
#   make deps       install missing Debian packages (tools/deps)
#   make style      checkpatch and sparse on the module
#   make install    the operator's tool ktls-attest, its man page and bash
#                   completion (PREFIX=/usr/local, DESTDIR=; uninstall too)
#   make bench      build the module and the benchmark, run it in the test VM
#                   (not part of check; BENCH_ARGS go to gate-bench)
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
	bench bench-build clean cli agent install uninstall
all: module userspace

# --- userspace: test programs ---------------------------------------------

SELFTESTS := tpm_basic stacking module_unload gate gate_netlink gate_life relay race \
	verdict cli
SELFTEST_BINS := $(addprefix $(B)/selftests/,$(SELFTESTS)) $(B)/selftests/katt-agent
KTLS_LIB := selftests/lib/ktls.c selftests/lib/ktls.h
KATT_NL_LIB := selftests/lib/katt_nl.c selftests/lib/katt_nl.h

pc_libs = $(shell pkg-config --libs $(1) 2>/dev/null)
CPPFLAGS += $(shell pkg-config --cflags libnl-genl-3.0 jansson 2>/dev/null)

$(B)/selftests/tpm_basic: LDLIBS += $(call pc_libs,tss2-esys tss2-tctildr tss2-rc libcrypto)
KATT_TEST_LIB := selftests/lib/katt_test.c selftests/lib/katt_test.h \
	selftests/lib/katt_harness.h
GATE_TESTS := $(addprefix $(B)/selftests/,gate gate_netlink gate_life race verdict)
NL_TESTS := $(GATE_TESTS) $(addprefix $(B)/selftests/,stacking module_unload)

$(NL_TESTS): $(KTLS_LIB) $(KATT_NL_LIB)
$(NL_TESTS): LDLIBS += $(call pc_libs,libnl-genl-3.0)
$(GATE_TESTS): $(KATT_TEST_LIB)
# gate seals TLS 1.3 records itself (empty records kTLS does not send)
$(B)/selftests/gate: LDLIBS += $(call pc_libs,libcrypto)
# race: the races of the local application, in threads
$(B)/selftests/race: LDLIBS += -lpthread
# verdict: large sends, streams and SO_ERROR readers in threads
$(B)/selftests/verdict: LDLIBS += -lpthread

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

# cli: the CLI against real sockets in the VM (it runs build/ktls-attest)
$(B)/selftests/cli: $(KTLS_LIB) $(KATT_NL_LIB) $(KATT_TEST_LIB)
$(B)/selftests/cli: LDLIBS += $(call pc_libs,libnl-genl-3.0 jansson)

# --- userspace: the operator's tool ----------------------------------------

CLI_DIR := tools/ktls-attest
CLI_SRC := $(wildcard $(CLI_DIR)/*.c)
CLI_DEPS := $(CLI_SRC) $(wildcard $(CLI_DIR)/*.h) uapi/linux/ktls_attest.h \
	uapi/linux/ktls_attest_netlink.h
CLI_LIBS = $(call pc_libs,libnl-genl-3.0 jansson)
CLI_BIN := $(B)/ktls-attest
# The host tests run these builds with AddressSanitizer and UBSan too.
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
CLI_ASAN := $(B)/asan/ktls-attest
CLI_UNIT := $(B)/asan/cli_unit

$(CLI_BIN): $(CLI_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $(CLI_SRC) $(CLI_LIBS)

$(CLI_ASAN): $(CLI_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -O1 -g $(SANITIZE) $(WARN) -o $@ $(CLI_SRC) $(CLI_LIBS)

# unit tests of the tool's parsers and formatters (no netlink socket)
CLI_UNIT_SRC := $(addprefix $(CLI_DIR)/,filter.c sock.c log.c ktls_attest_nl_gen.c)
$(CLI_UNIT): selftests/host/cli_unit.c $(CLI_DEPS) $(B)/ksft/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$(CLI_DIR) -O1 -g $(SANITIZE) $(WARN) -o $@ \
		selftests/host/cli_unit.c $(CLI_UNIT_SRC) $(CLI_LIBS)

cli: $(CLI_BIN) $(CLI_ASAN) $(CLI_UNIT)

# --- userspace: the agent, ktls-attestd (agent/) ----------------------------
#
# The agent's code is one library, built twice: plainly (build/agent/) and
# with the sanitizers for its host unit tests (build/asan/agent/).

AGENT_SRC := $(wildcard agent/*.c)
AGENT_HDR := $(wildcard agent/*.h)
AGENT_LIBS = $(call pc_libs,tss2-esys tss2-mu tss2-tctildr tss2-rc libcbor jansson libcrypto)
AGENT_LIB := $(B)/agent/libkatt-agent.a
AGENT_ASAN_LIB := $(B)/asan/agent/libkatt-agent.a
AGENT_UNITS := $(addprefix $(B)/asan/,agent_proto agent_attester agent_appraise \
	agent_quote)
# tests against a software TPM of their own, judged by tpm2_checkquote too
AGENT_TPM_TEST_LIB := selftests/lib/swtpm.c selftests/lib/swtpm.h \
	selftests/lib/checkquote.c selftests/lib/checkquote.h
$(B)/asan/agent_attester $(B)/asan/agent_quote: $(AGENT_TPM_TEST_LIB)
$(B)/asan/agent_attester: AGENT_TEST_LDLIBS += -lpthread
# quotes forged with a software key, to reach each check on its own
AGENT_FORGE_LIB := selftests/lib/forge.c selftests/lib/forge.h
$(B)/asan/agent_appraise: $(AGENT_FORGE_LIB) selftests/lib/swtpm.c selftests/lib/swtpm.h

$(B)/agent/%.o: agent/%.c $(AGENT_HDR) uapi/linux/ktls_attest.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<
$(B)/asan/agent/%.o: agent/%.c $(AGENT_HDR) uapi/linux/ktls_attest.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -O1 -g $(SANITIZE) $(WARN) -c -o $@ $<
$(AGENT_LIB): $(patsubst agent/%.c,$(B)/agent/%.o,$(AGENT_SRC))
	$(AR) rcs $@ $^
$(AGENT_ASAN_LIB): $(patsubst agent/%.c,$(B)/asan/agent/%.o,$(AGENT_SRC))
	$(AR) rcs $@ $^

$(AGENT_UNITS): $(B)/asan/%: selftests/host/%.c $(AGENT_ASAN_LIB) \
		$(B)/ksft/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iagent -Iselftests/lib -O1 -g $(SANITIZE) $(WARN) \
		-o $@ $(filter %.c,$^) $(AGENT_ASAN_LIB) $(AGENT_LIBS) \
		$(AGENT_TEST_LDLIBS)

agent: $(AGENT_LIB) $(AGENT_UNITS)

userspace: $(SELFTEST_BINS) cli agent

# --- installing the operator's tool ---------------------------------------

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL ?= install

install: $(CLI_BIN)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(BASHCOMPDIR)
	$(INSTALL) -m 0755 $(CLI_BIN) $(DESTDIR)$(BINDIR)/ktls-attest
	$(INSTALL) -m 0644 Documentation/man/ktls-attest.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 $(CLI_DIR)/completion.bash \
		$(DESTDIR)$(BASHCOMPDIR)/ktls-attest

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ktls-attest \
		$(DESTDIR)$(MANDIR)/man8/ktls-attest.8 \
		$(DESTDIR)$(BASHCOMPDIR)/ktls-attest

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

# Installs what is missing first (Debian 12, as root), then builds with the
# freshly installed tools and libraries, then runs selftests/check.
check: deps
	$(MAKE) all
	selftests/check

module:
	@test -n "$(KVER)" || { tools/kver; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

# kselftest_harness.h and kselftest.h come from the distribution's kernel
# source at build time; no kernel file is kept in this repository.
$(B)/ksft/kselftest_harness.h:
	@test -n "$(KSRC_TAR)" || { echo "missing Debian package: linux-source-6.1"; exit 1; }
	@mkdir -p $(B)/ksft
	tar -xJf $(KSRC_TAR) -C $(B)/ksft --strip-components=4 --wildcards \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h'
	@touch $@

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
	tools/nlspec-gen $(NLSPEC) --mode user-c -o tools/ktls-attest/ktls_attest_nl_gen.c
	tools/nlspec-gen $(NLSPEC) --mode user-h -o tools/ktls-attest/ktls_attest_nl_gen.h

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(B)
