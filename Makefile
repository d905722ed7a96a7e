# egpu-vm — top-level build. `make demo` shows the DMA path; `make test` is CI.
#
# Every target first installs what it needs (scripts/deps.sh GROUP).
# Build products go under build/ (ignored); long builds (QEMU, kernels) are
# cached by content under $(EGPU_CACHE), default ~/.cache/egpu-vm.

SHELL := /bin/bash
BUILD := build
CC ?= gcc
FUZZ_SECONDS ?= 60

SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
UNIT_CFLAGS := -std=c11 -O1 -g $(WARN) $(SAN) -Iprotocol -Ihost -Itests/unit -Iguest/core

HOST_SRC := host/adma_core.c host/adma_batch.c host/dartsim.c
FAKE_SRC := tests/unit/fake_guest.c
COAL_SRC := $(wildcard guest/core/*.c)
SIM_SRC := host/simgpu.c host/simgpu_engine.c
DEXT_SRC := $(wildcard dext/core/*.c)
IOKIT_SRC := host/hostdev_iokit.c host/hostdev_iokit_dma.c
SHIM_SRC := $(wildcard tests/iokit-shim/*.c)
# the IOKit backend over the IOKit test double over the dext core over simgpu
DEXT_TEST_SRC := $(IOKIT_SRC) $(SHIM_SRC) $(DEXT_SRC) $(SIM_SRC) $(HOST_SRC)
DEXT_TEST_FLAGS := -Idext/core -Ishim -Ishim/IOKit/darwin -Itests/iokit-shim -pthread

# test name -> sources besides its own file
UNIT_DEPS_test_protocol :=
UNIT_DEPS_test_dartsim := host/dartsim.c
UNIT_DEPS_test_core := $(HOST_SRC) $(FAKE_SRC)
UNIT_DEPS_test_core_hostile := $(HOST_SRC) $(FAKE_SRC)
# a slot's generation ends (the slot is retired) after 4 uses, not 2^32
UNIT_FLAGS_test_core_hostile := -DADMA_CORE_GEN_MAX=4
UNIT_DEPS_test_core_backend := $(HOST_SRC) $(FAKE_SRC)
UNIT_DEPS_test_model := $(HOST_SRC) $(FAKE_SRC)
UNIT_DEPS_test_coalesce := $(COAL_SRC) tests/unit/coal_rig.c
UNIT_DEPS_test_coalesce_cases := $(UNIT_DEPS_test_coalesce)
UNIT_DEPS_test_coalesce_cache := $(UNIT_DEPS_test_coalesce) tests/unit/coal_cache_rig.c
UNIT_DEPS_test_coalesce_lazy := $(UNIT_DEPS_test_coalesce_cache)
UNIT_DEPS_test_coalesce_pin := $(UNIT_DEPS_test_coalesce_cache)
UNIT_DEPS_test_simgpu := $(SIM_SRC) host/dartsim.c tests/unit/simgpu_rig.c
UNIT_DEPS_test_simgpu_engine := $(UNIT_DEPS_test_simgpu)
UNIT_DEPS_test_simgpu_threads := $(SIM_SRC) host/dartsim.c
REPLAY_SRC := bench/replay_trace.c bench/replay_run.c bench/replay_bound.c $(COAL_SRC) host/dartsim.c
UNIT_DEPS_test_replay := $(REPLAY_SRC)
UNIT_FLAGS_test_replay := -Ibench
UNIT_DEPS_test_dext := $(DEXT_TEST_SRC) tests/unit/dext_rig.c
UNIT_FLAGS_test_dext := $(DEXT_TEST_FLAGS)
UNIT_DEPS_test_dext_core := $(UNIT_DEPS_test_dext)
UNIT_FLAGS_test_dext_core := $(DEXT_TEST_FLAGS)
UNIT_DEPS_test_dext_batch := $(UNIT_DEPS_test_dext)
UNIT_FLAGS_test_dext_batch := $(DEXT_TEST_FLAGS)
UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BINS := $(addprefix $(BUILD)/unit/,$(UNIT_TESTS))
HEADERS := $(wildcard protocol/*.h host/*.h tests/unit/*.h guest/core/*.h) \
	$(wildcard dext/core/*.h tests/iokit-shim/*.h shim/IOKit/*.h shim/IOKit/darwin/*/*.h)

.PHONY: all test unit portable fuzz-smoke qemu qtest module module-newest vmtest demo bench \
	bench-selftest \
	launcher launcher-test install deps-launcher \
	darwin deps-unit clean

all: unit

deps-unit:
	@scripts/deps.sh unit

# ---- unit tests (cmocka, ASan + UBSan) ------------------------------------

# (the sources a test links are prerequisites too: a change rebuilds it)
.SECONDEXPANSION:
$(BUILD)/unit/%: tests/unit/%.c $$(UNIT_DEPS_$$*) $(HEADERS) | deps-unit
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) $(UNIT_FLAGS_$*) $< $(UNIT_DEPS_$*) -lcmocka -o $@

unit: $(UNIT_BINS) portable
	@tests/unit/run.sh $(UNIT_BINS)

# The portable cores must build freestanding and need nothing from libc
# beyond what the compiler itself may emit (memset/memcpy); one portable
# file may call another (simgpu uses dartsim).
PORTABLE_SRC := $(HOST_SRC) $(SIM_SRC) $(COAL_SRC) $(DEXT_SRC)
PORTABLE_OBJ := $(addprefix $(BUILD)/portable/,$(notdir $(PORTABLE_SRC:.c=.o)))
portable: | deps-unit
	@mkdir -p $(BUILD)/portable
	@for f in $(PORTABLE_SRC); do \
	  o=$(BUILD)/portable/$$(basename $$f .c).o; \
	  $(CC) -std=c11 -O2 -ffreestanding $(WARN) -pedantic -Iprotocol -Ihost -Iguest/core -Idext/core -c $$f -o $$o || exit 1; \
	done; \
	defs=$$(nm --defined-only $(PORTABLE_OBJ) | awk 'NF == 3 {print $$3}'); \
	for o in $(PORTABLE_OBJ); do \
	  extra=$$(nm -u $$o | awk '{print $$2}' | grep -vxE 'memset|memcpy' | grep -vxF "$$defs" || true); \
	  if [ -n "$$extra" ]; then echo "portable: $$o needs" $$extra; exit 1; fi; \
	done; echo "portable: host core, simgpu, coalescer and dext core build freestanding"

# ---- fuzzing ---------------------------------------------------------------

$(BUILD)/fuzz/fuzz_batch: tests/fuzz/fuzz_batch.c $(HOST_SRC) $(FAKE_SRC) $(HEADERS) | deps-unit
	@mkdir -p $(@D)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	  -Iprotocol -Ihost -Itests/unit $< $(HOST_SRC) $(FAKE_SRC) -o $@

fuzz-smoke: $(BUILD)/fuzz/fuzz_batch
	@tests/fuzz/run.sh $< $(FUZZ_SECONDS)

# ---- benchmarks -------------------------------------------------------------

$(BUILD)/bench/bench_core: bench/bench_core.c $(HOST_SRC) $(FAKE_SRC) $(HEADERS) | deps-unit
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -g -Wall -Wextra -Werror -Iprotocol -Ihost -Itests/unit $< $(HOST_SRC) $(FAKE_SRC) -o $@

# DMA API traces recorded in the guest (tests/traces/record.sh), replayed
# through the coalescer over the simulated DART under each policy
$(BUILD)/bench/replay: bench/replay.c $(REPLAY_SRC) bench/replay.h $(HEADERS) | deps-unit
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -g $(WARN) -Iprotocol -Ihost -Iguest/core -Ibench $< $(REPLAY_SRC) -o $@

REPLAY_TRACES := tests/traces/nvme.trace.xz tests/traces/simgpu.trace.xz

# (the tools' output goes to tools.txt too: its "target ...: met" lines
# join the closing table of the VM benchmarks, tests/vm/bench.sh)
BENCH_OUT := $(BUILD)/bench/tools.txt
bench: $(BUILD)/bench/bench_core $(BUILD)/bench/replay
	@set -o pipefail; $< | tee $(BENCH_OUT)
	@set -o pipefail; for t in $(REPLAY_TRACES); do xz -dc $$t | $(BUILD)/bench/replay --label $$t - || exit 1; done | tee -a $(BENCH_OUT)
	@# tiny: just above what the trace keeps in use with 1 MiB clusters (~10 MiB;
	@# below that every policy is refused), far below what the idle cache wants
	@set -o pipefail; xz -dc tests/traces/nvme.trace.xz | $(BUILD)/bench/replay --max-bytes 12M --max-maps 64 \
	  --label "tests/traces/nvme.trace.xz under tiny host limits" - | tee -a $(BENCH_OUT)
	@tests/vm/bench.sh --core-output $(BENCH_OUT)

# bench.py's arithmetic and verdicts on made-up guest output (no VM; in CI)
bench-selftest:
	@python3 tests/vm/bench_selftest.py

# ---- QEMU, guest, VM ----------------------------------------------------------

qemu:
	@scripts/deps.sh qemu
	@qemu/build.sh

qtest: qemu
	@qemu/run-qtest.sh

module:
	@scripts/deps.sh module
	@guest/build.sh
	@guest/build.sh --module simgpu_test
	@guest/build.sh --module uvm_standin
	@guest/build.sh --module dmabench
	@guest/build.sh --checkpatch

# the newest kernel headers Debian offers, and a compile check of the
# map_phys code against them edited to mainline's >= 6.19 dma_map_ops
# (guest/build.sh: "mapphys"); also part of `module`
module-newest:
	@scripts/deps.sh module
	@guest/build.sh newest-amd64 newest-arm64 mapphys-amd64

vmtest: qemu module
	@scripts/deps.sh vm
	@tests/vm/run.sh

demo: launcher
	@$(BUILD)/launcher/egpu-vm demo

# ---- the egpu-vm launcher (launcher/src, C11) --------------------------------

PREFIX ?= /usr/local
LAUNCHER_SRC = $(wildcard launcher/src/*.c)
LAUNCHER_HDR = $(wildcard launcher/src/*.h) protocol/apple_dext.h
LAUNCHER_LIBS := json-c libcurl libcrypto
LAUNCHER_CFLAGS = -std=c11 -O2 -g $(WARN) -Iprotocol -Ilauncher/src \
	-DEGPU_DATADIR='"$(PREFIX)/share/egpu-vm"'

deps-launcher:
	@scripts/deps.sh launcher

# rebuilt when PREFIX changes: the binary knows where its data is installed
$(BUILD)/launcher/prefix: FORCE
	@mkdir -p $(@D)
	@[ "$$(cat $@ 2>/dev/null)" = "$(PREFIX)" ] || echo "$(PREFIX)" > $@

$(BUILD)/launcher/egpu-vm: $(LAUNCHER_SRC) $(LAUNCHER_HDR) $(BUILD)/launcher/prefix | deps-launcher
	@mkdir -p $(@D)
	$(CC) $(LAUNCHER_CFLAGS) $$(pkg-config --cflags $(LAUNCHER_LIBS)) $(LAUNCHER_SRC) \
	  $$(pkg-config --libs $(LAUNCHER_LIBS)) -o $@

launcher: $(BUILD)/launcher/egpu-vm

launcher-test: launcher
	@tests/launcher/run.sh

install: launcher
	install -D -m 0755 $(BUILD)/launcher/egpu-vm $(DESTDIR)$(PREFIX)/bin/egpu-vm
	install -D -m 0644 launcher/egpu-vm.1 $(DESTDIR)$(PREFIX)/share/man/man1/egpu-vm.1
	install -D -m 0644 launcher/images.conf $(DESTDIR)$(PREFIX)/share/egpu-vm/images.conf

FORCE:

# ---- macOS files, compiled for Darwin against shim/ ---------------------------

darwin:
	@scripts/darwin-check.sh

# ---- everything CI runs -----------------------------------------------------

test:
	@scripts/test-all.sh $(TEST_STAGES)

clean:
	rm -rf $(BUILD)
