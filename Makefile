# SPDX-License-Identifier: GPL-2.0
#
# ktls-attest top-level build.
#
#   make            build the kernel module and every userspace part
#   make check      install missing dependencies, build, run host and VM tests
#   make deps       install missing Debian packages (tools/deps)
#   make style      checkpatch and sparse on the module
#   make install    the operator's tool ktls-attest (man page, bash
#                   completion), the agent ktls-attestd (man pages, example
#                   files), the library and the example programs
#                   (PREFIX=/usr/local, DESTDIR=; uninstall too)
#   make bench      build the module and the benchmarks, run them in the test
#                   VM (not part of check; BENCH_ARGS go to gate-bench,
#                   LIB_BENCH_ARGS to lib-bench, AGENT_BENCH_ARGS to
#                   agent-run; bench-lib and bench-agent run one alone)
#   make e2e-heavy  agent_e2e's many connections at once with 1000 of them
#                   (E2E_CONNS=N) in the test VM (check runs 100)
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
	bench bench-build ksft-tls e2e-heavy clean cli agent demo install uninstall
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

# The family's name tables and libnl attribute policies, generated from the
# YAML specification (make gen) once for the tool and the agent.
NLGEN_DIR := tools/lib/nlgen
NLGEN_SRC := $(NLGEN_DIR)/ktls_attest_nl_gen.c
NLGEN_HDR := $(NLGEN_DIR)/ktls_attest_nl_gen.h
CPPFLAGS += -I$(NLGEN_DIR)

CLI_DIR := tools/ktls-attest
CLI_SRC := $(wildcard $(CLI_DIR)/*.c) $(NLGEN_SRC)
CLI_DEPS := $(CLI_SRC) $(wildcard $(CLI_DIR)/*.h) $(NLGEN_HDR) \
	uapi/linux/ktls_attest.h uapi/linux/ktls_attest_netlink.h
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
CLI_UNIT_SRC := $(addprefix $(CLI_DIR)/,filter.c sock.c log.c) $(NLGEN_SRC)
$(CLI_UNIT): selftests/host/cli_unit.c $(CLI_DEPS) $(B)/ksft/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$(CLI_DIR) -O1 -g $(SANITIZE) $(WARN) -o $@ \
		selftests/host/cli_unit.c $(CLI_UNIT_SRC) $(CLI_LIBS)

cli: $(CLI_BIN) $(CLI_ASAN) $(CLI_UNIT)

# --- userspace: the agent, ktls-attestd (agent/) ----------------------------
#
# The agent's code is one library, built twice: plainly (build/agent/) and
# with the sanitizers for its host unit tests (build/asan/agent/).

AGENT_SRC := $(filter-out agent/ktls-attestd.c,$(wildcard agent/*.c))
AGENT_HDR := $(wildcard agent/*.h) $(NLGEN_HDR)
AGENT_LIBS = $(call pc_libs,liburing libnl-genl-3.0 tss2-esys tss2-mu tss2-tctildr \
	tss2-rc libcbor jansson libcrypto) -lpthread
AGENT_LIB := $(B)/agent/libkatt-agent.a
AGENT_ASAN_LIB := $(B)/asan/agent/libkatt-agent.a
AGENT_UNITS := $(addprefix $(B)/asan/,agent_proto agent_attester agent_appraise \
	agent_quote agent_config agent_session)
# tests against a software TPM of their own, judged by tpm2_checkquote too
AGENT_TPM_TEST_LIB := selftests/lib/swtpm.c selftests/lib/swtpm.h \
	selftests/lib/checkquote.c selftests/lib/checkquote.h
$(B)/asan/agent_attester $(B)/asan/agent_quote $(B)/asan/agent_session: \
	$(AGENT_TPM_TEST_LIB)
$(B)/asan/agent_attester: AGENT_TEST_LDLIBS += -lpthread
# quotes forged with a software key, to reach each check on its own
AGENT_FORGE_LIB := selftests/lib/forge.c selftests/lib/forge.h
$(B)/asan/agent_appraise: $(AGENT_FORGE_LIB) selftests/lib/swtpm.c selftests/lib/swtpm.h
# the files and enrolment (agent_config): against a software TPM of its own
$(B)/asan/agent_config: selftests/lib/swtpm.c selftests/lib/swtpm.h

$(B)/agent/%.o: agent/%.c $(AGENT_HDR) uapi/linux/ktls_attest.h \
		uapi/linux/ktls_attest_netlink.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<
$(B)/asan/agent/%.o: agent/%.c $(AGENT_HDR) uapi/linux/ktls_attest.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -O1 -g $(SANITIZE) $(WARN) -c -o $@ $<
$(B)/agent/nlgen.o: $(NLGEN_SRC) $(NLGEN_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<
$(B)/asan/agent/nlgen.o: $(NLGEN_SRC) $(NLGEN_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -O1 -g $(SANITIZE) $(WARN) -c -o $@ $<
$(AGENT_LIB): $(patsubst agent/%.c,$(B)/agent/%.o,$(AGENT_SRC)) \
		$(B)/agent/nlgen.o
	$(AR) rcs $@ $^
$(AGENT_ASAN_LIB): $(patsubst agent/%.c,$(B)/asan/agent/%.o,$(AGENT_SRC)) \
		$(B)/asan/agent/nlgen.o
	$(AR) rcs $@ $^

$(AGENT_UNITS): $(B)/asan/%: selftests/host/%.c $(AGENT_ASAN_LIB) \
		$(B)/ksft/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iagent -Iselftests/lib -O1 -g $(SANITIZE) $(WARN) \
		-o $@ $(filter %.c,$^) $(AGENT_ASAN_LIB) $(AGENT_LIBS) \
		$(AGENT_TEST_LDLIBS)

# the daemon (with its enroll subcommand)
AGENTD := $(B)/ktls-attestd
$(AGENTD): agent/ktls-attestd.c $(AGENT_LIB) $(AGENT_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< \
		$(AGENT_LIB) $(AGENT_LIBS)

# and with the sanitizers, for its command-line tests on the host
AGENTD_ASAN := $(B)/asan/ktls-attestd
$(AGENTD_ASAN): agent/ktls-attestd.c $(AGENT_ASAN_LIB) $(AGENT_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -O1 -g $(SANITIZE) $(WARN) -o $@ $< \
		$(AGENT_ASAN_LIB) $(AGENT_LIBS)

agent: $(AGENT_LIB) $(AGENTD) $(AGENTD_ASAN) $(AGENT_UNITS)

# katt-evil: the hostile attester of the end-to-end attack tests, on the
# agent library and the selftests' netlink client
EVIL := $(B)/selftests/katt-evil
$(EVIL): selftests/katt_evil.c $(AGENT_LIB) $(KATT_NL_LIB) \
		uapi/linux/ktls_attest.h uapi/linux/ktls_attest_netlink.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iagent -Iselftests $(CFLAGS) $(WARN) -o $@ \
		$(filter %.c,$^) $(AGENT_LIB) $(AGENT_LIBS) \
		$(call pc_libs,libnl-genl-3.0)

userspace: $(EVIL)

userspace: $(SELFTEST_BINS) cli agent

# --- installing the operator's tool ---------------------------------------

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL ?= install

install-cli: $(CLI_BIN)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(BASHCOMPDIR)
	$(INSTALL) -m 0755 $(CLI_BIN) $(DESTDIR)$(BINDIR)/ktls-attest
	$(INSTALL) -m 0644 Documentation/man/ktls-attest.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 $(CLI_DIR)/completion.bash \
		$(DESTDIR)$(BASHCOMPDIR)/ktls-attest

uninstall-cli:
	rm -f $(DESTDIR)$(BINDIR)/ktls-attest \
		$(DESTDIR)$(MANDIR)/man8/ktls-attest.8 \
		$(DESTDIR)$(BASHCOMPDIR)/ktls-attest

# --- installing the agent, ktls-attestd ------------------------------------
#
# The daemon, its two man pages and the example configuration and policy
# (as documentation: nothing is written to /etc, an operator's files there
# are never overwritten).

SBINDIR ?= $(PREFIX)/sbin
AGENT_DOCDIR ?= $(PREFIX)/share/doc/ktls-attestd
AGENT_EXAMPLES := agent/examples/config.json agent/examples/policy.json

.PHONY: install-agent uninstall-agent
install-agent: $(AGENTD)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(AGENT_DOCDIR)/examples
	$(INSTALL) -m 0755 $(AGENTD) $(DESTDIR)$(SBINDIR)/ktls-attestd
	$(INSTALL) -m 0644 Documentation/man/ktls-attestd.8 \
		$(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 Documentation/man/ktls-attestd.conf.5 \
		$(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 $(AGENT_EXAMPLES) $(DESTDIR)$(AGENT_DOCDIR)/examples/

uninstall-agent:
	rm -f $(DESTDIR)$(SBINDIR)/ktls-attestd \
		$(DESTDIR)$(MANDIR)/man8/ktls-attestd.8 \
		$(DESTDIR)$(MANDIR)/man5/ktls-attestd.conf.5 \
		$(addprefix $(DESTDIR)$(AGENT_DOCDIR)/examples/,$(notdir $(AGENT_EXAMPLES)))
	rmdir $(DESTDIR)$(AGENT_DOCDIR)/examples $(DESTDIR)$(AGENT_DOCDIR) \
		2>/dev/null || true

# --- libktls-attest (tools/lib/ktls-attest) ------------------------------

LIB_DIR := tools/lib/ktls-attest
LIB_OUT := $(B)/lib/
LIB_SRCS := $(addprefix $(LIB_DIR)/,error.c keys.c prepare.c move.c binding.c \
	io.c gate.c nl.c)
LIB_HDRS := $(LIB_DIR)/ktls-attest.h $(LIB_DIR)/internal.h
LIB_A := $(LIB_OUT)libktls-attest.a
LIB_SO := $(LIB_OUT)libktls-attest.so
LIB_PKGS := libssl libcrypto libnl-genl-3.0
LIB_LDLIBS = $(call pc_libs,$(LIB_PKGS)) -lpthread

.PHONY: lib install uninstall install-cli uninstall-cli install-lib uninstall-lib
lib:
	$(MAKE) -C $(LIB_DIR) OUTPUT=$(CURDIR)/$(LIB_OUT)
$(LIB_A) $(LIB_SO): lib

# host unit tests of the library: against the static library, and its
# sources again with ASan and UBSan
HOST_TESTS := $(B)/selftests/host/lib_unit $(B)/selftests/host/lib_unit-san
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
CERTS_LIB := selftests/lib/katt_certs.c selftests/lib/katt_certs.h
$(B)/selftests/host/lib_unit: selftests/host/lib_unit.c $(LIB_A) $(CERTS_LIB) \
		$(B)/ksft/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$(LIB_DIR) -Iselftests $(CFLAGS) $(WARN) -o $@ \
		$< selftests/lib/katt_certs.c $(LIB_A) $(LIB_LDLIBS)
$(B)/selftests/host/lib_unit-san: selftests/host/lib_unit.c $(LIB_SRCS) \
		$(LIB_HDRS) $(CERTS_LIB) $(B)/ksft/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$(LIB_DIR) -Iselftests -O1 -g $(SAN) $(WARN) -o $@ \
		$< selftests/lib/katt_certs.c $(LIB_SRCS) $(LIB_LDLIBS)

# lib_openssl: the library against openssl s_server/s_client, in the VM
PEER_LIB := selftests/lib/katt_peer.c selftests/lib/katt_peer.h
$(B)/selftests/lib_openssl: selftests/lib_openssl.c $(LIB_A) $(CERTS_LIB) \
		$(PEER_LIB) $(KTLS_LIB) $(KATT_NL_LIB) $(KATT_TEST_LIB) \
		selftests/lib/katt_agentctl.c selftests/lib/katt_agentctl.h \
		$(B)/ksft/kselftest_harness.h uapi/linux/ktls_attest.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$(LIB_DIR) $(CFLAGS) $(WARN) -o $@ \
		$(filter %.c,$^) $(LIB_A) $(LIB_LDLIBS)

# --- the example programs (tools/examples) -------------------------------

EX_DIR := tools/examples
EX_PROGS := $(B)/tools/ktls-attest-server $(B)/tools/ktls-attest-client
EX_COMMON := $(EX_DIR)/common.c $(EX_DIR)/common.h
$(EX_PROGS): $(B)/tools/%: $(EX_DIR)/%.c $(EX_COMMON) $(LIB_A) $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$(LIB_DIR) $(CFLAGS) $(WARN) -o $@ $< \
		$(EX_DIR)/common.c $(LIB_A) $(LIB_LDLIBS) $(call pc_libs,jansson)

# examples: the example programs in two namespaces, in the VM
$(B)/selftests/examples: selftests/examples.c $(PEER_LIB) $(KATT_NL_LIB) \
		$(KATT_TEST_LIB) $(KTLS_LIB) $(KATT_RELAY_LIB) \
		$(B)/ksft/kselftest_harness.h uapi/linux/ktls_attest.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$(LIB_DIR) $(CFLAGS) $(WARN) -o $@ \
		$(filter %.c,$^) $(LIB_A) $(LIB_LDLIBS)

# agent_daemon: ktls-attestd in two namespaces, with the example programs
$(B)/selftests/agent_daemon: selftests/agent_daemon.c $(PEER_LIB) $(KATT_NL_LIB) \
		$(KATT_TEST_LIB) $(KTLS_LIB) selftests/lib/katt_netns.c \
		selftests/lib/katt_netns.h $(AGENT_LIB) $(AGENTD) $(EX_PROGS) \
		$(B)/ksft/kselftest_harness.h uapi/linux/ktls_attest.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$(LIB_DIR) -Iagent $(CFLAGS) $(WARN) -o $@ \
		$(filter %.c,$^) $(LIB_A) $(AGENT_LIB) $(LIB_LDLIBS) $(AGENT_LIBS)

userspace: lib $(SELFTEST_BINS) $(HOST_TESTS) $(B)/selftests/lib_openssl \
	$(EX_PROGS) $(B)/selftests/examples $(B)/selftests/agent_daemon

# agent_e2e: ktls-attestd in two namespaces, two TPMs (the VM's and one
# behind the vTPM proxy), the library's connections, katt-evil's attacks
E2E := $(B)/selftests/agent_e2e
E2E_LIB := selftests/lib/vtpm.c selftests/lib/vtpm.h $(CERTS_LIB) \
	$(PEER_LIB) $(KATT_RELAY_LIB)
$(E2E): selftests/agent_e2e.c $(E2E_LIB) $(KTLS_LIB) $(KATT_NL_LIB) \
		$(KATT_TEST_LIB) $(LIB_A) $(B)/ksft/kselftest_harness.h \
		uapi/linux/ktls_attest.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$(LIB_DIR) $(CFLAGS) $(WARN) -o $@ \
		$(filter %.c,$^) $(LIB_A) $(LIB_LDLIBS) \
		$(call pc_libs,jansson) -lpthread

userspace: $(E2E)

# make install [PREFIX=/usr/local] [DESTDIR=]: the library (header, shared
# and static, pkg-config file), the example programs, the certificate
# script and their man pages.
MAN1 := $(wildcard Documentation/man/*.1)
install-lib: lib $(EX_PROGS)
	$(MAKE) -C $(LIB_DIR) OUTPUT=$(CURDIR)/$(LIB_OUT) PREFIX=$(PREFIX) \
		DESTDIR=$(DESTDIR) install
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(EX_PROGS) $(EX_DIR)/ktls-attest-certs $(DESTDIR)$(BINDIR)/
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
uninstall-lib:
	$(MAKE) -C $(LIB_DIR) OUTPUT=$(CURDIR)/$(LIB_OUT) PREFIX=$(PREFIX) \
		DESTDIR=$(DESTDIR) uninstall
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,ktls-attest-server \
		ktls-attest-client ktls-attest-certs) \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1)))

# make install: the operator's tool, the agent, the library and the
# example programs
install: install-cli install-agent install-lib
uninstall: uninstall-cli uninstall-agent uninstall-lib

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

# the library benchmark's operator: passes every round at once
AUTOPASS := $(B)/bench/katt-autopass
$(AUTOPASS): tools/bench/katt-autopass.c $(KATT_NL_LIB) \
		uapi/linux/ktls_attest.h uapi/linux/ktls_attest_netlink.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iselftests/lib $(CFLAGS) $(WARN) -o $@ \
		$(filter %.c,$^) $(call pc_libs,libnl-genl-3.0)

bench-build: $(BENCH_BIN) $(AUTOPASS) $(EX_PROGS)

# Boots the test VM three times: gate-bench (the gate against plain kTLS,
# about 2.5 minutes), lib-bench (the example programs through the library
# against userspace OpenSSL, about 5 minutes), agent-bench (the time to
# first byte with ktls-attestd's attestation against without, about 4
# minutes).  BENCH_ARGS go to gate-bench, LIB_BENCH_ARGS to lib-bench,
# AGENT_BENCH_ARGS to agent-run (e.g. "--keep DIR -- -n 15"); bench-lib
# and bench-agent run one alone.
BENCH_ARGS ?=
LIB_BENCH_ARGS ?=
AGENT_BENCH_ARGS ?=
.PHONY: bench-lib bench-agent
bench: deps
	$(MAKE) module userspace bench-build
	tools/bench/run $(BENCH_ARGS)
	tools/bench/lib-run $(LIB_BENCH_ARGS)
	tools/bench/agent-run $(AGENT_BENCH_ARGS)
bench-lib: deps
	$(MAKE) module userspace bench-build
	tools/bench/lib-run $(LIB_BENCH_ARGS)
bench-agent: deps
	$(MAKE) module userspace bench-build
	tools/bench/agent-run $(AGENT_BENCH_ARGS)

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

# agent_e2e's many_at_once with E2E_CONNS connections at once (1000: some
# minutes under TCG), alone in one boot of the test VM; make check runs 100.
E2E_CONNS ?= 1000
.PHONY: e2e-heavy
e2e-heavy: deps
	$(MAKE) module userspace
	tools/vm/run -t 1800 -e KATT_E2E_CONNS=$(E2E_CONNS) \
		-e LD_PRELOAD=$(CURDIR)/$(KSFT_HARNESS_SHIM) \
		-e KSFT_ONLY='global.vtpm_second_tpm e2e.many_at_once' -- \
		sh -c 'modprobe tls && insmod kmod/ktls_attest.ko && \
		build/selftests/agent_e2e'

# Installs what is missing first (Debian 12, as root), then builds with the
# freshly installed tools and libraries, then runs selftests/check.
check: deps
	$(MAKE) all
	selftests/check

# The main job, played in the test VM: two namespaces, an agent in each, a
# connection held, attested with a TPM quote, released, re-attested, and
# failed by a measured change (tools/demo/scenario).  DEMO_ARGS go to
# tools/demo/run (--keep DIR keeps the logs).
DEMO_ARGS ?=
demo: deps
	$(MAKE) all
	tools/demo/run $(DEMO_ARGS)

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
	tools/nlspec-gen $(NLSPEC) --mode user-c -o $(NLGEN_SRC)
	tools/nlspec-gen $(NLSPEC) --mode user-h -o $(NLGEN_HDR)

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(B)
