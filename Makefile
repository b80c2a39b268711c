# SPDX-License-Identifier: GPL-2.0
#
# ktls-attest top-level build.
#
#   make            build the kernel module and every userspace part
#   make check      install missing dependencies, build, run host and VM tests
#   make deps       install missing Debian packages (tools/deps)
#   make style      checkpatch and sparse on the module
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

.PHONY: all module userspace check deps style clean
all: module userspace

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
style: $(CHECKPATCH)
	$(CHECKPATCH) --no-tree --strict --show-types --terse \
		--ignore CONST_STRUCT -f $(KMOD_SRC)
	$(CHECKPATCH) --no-tree --strict --show-types --terse \
		--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON -f kmod/compat.h
	$(MAKE) -C $(KDIR) M=$(CURDIR) C=2 CF="-D__CHECK_ENDIAN__" modules

deps:
	tools/deps install

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(B)
