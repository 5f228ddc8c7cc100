# A thin layer over CMake: each target installs what is missing (scripts/install-deps),
# configures, builds, then runs. BUILD=dir picks the build folder; JOBS=n the parallelism.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
CONFIGURE = cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

.PHONY: all build demo test sanitize bench fuzz install clean

all: build

build:
	scripts/install-deps build test
	$(CONFIGURE)
	cmake --build $(BUILD) -j $(JOBS)

# The flagship demo (see README): a character-level LSTM (examples/charlm) learns to write
# fortune cookies from Debian's fortunes package for DEMO_SECONDS, then samples some. Bits per
# character are measured on the first 2,000 held-out windows (64,000 characters) only.
DEMO_SECONDS ?= 120
DEMO_MODEL = $(BUILD)/charlm-fortunes.safetensors
demo:
	scripts/install-deps build test demo
	$(CONFIGURE)
	cmake --build $(BUILD) -j $(JOBS) --target charlm
	scripts/fortunes-corpus $(BUILD)/fortunes.txt
	$(BUILD)/examples/charlm --text $(BUILD)/fortunes.txt --seconds $(DEMO_SECONDS) --dev-limit 2000 \
	  --save $(DEMO_MODEL) --generate 600 --temperature 0.7
	@echo
	@echo "The model is in $(DEMO_MODEL). Sample more with:"
	@echo "  $(BUILD)/examples/charlm --load $(DEMO_MODEL) --generate 1000 --temperature 0.8 --seed 2"

test:
	scripts/install-deps build test
	$(CONFIGURE)
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The test suite once more, built with AddressSanitizer + UndefinedBehaviorSanitizer (leak
# checking on); any report fails the run. SANITIZE=thread gives a ThreadSanitizer build instead.
SANITIZE ?= address,undefined
SAN_BUILD ?= build-asan
SAN_OPTIONS = halt_on_error=1:abort_on_error=1:print_stacktrace=1
sanitize:
	scripts/install-deps build test
	cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" \
	  -DFLARE_SANITIZE=$(SANITIZE) -DFLARE_CUDA=OFF -DFLARE_BUILD_BENCH=OFF -DFLARE_BUILD_EXAMPLES=OFF $(CMAKE_FLAGS) >/dev/null
	cmake --build $(SAN_BUILD) -j $(JOBS)
	cd $(SAN_BUILD) && ASAN_OPTIONS=$(SAN_OPTIONS):detect_leaks=1 \
	  UBSAN_OPTIONS=$(SAN_OPTIONS) TSAN_OPTIONS=$(SAN_OPTIONS):second_deadlock_stack=1 \
	  ctest --output-on-failure -j $(JOBS)

bench:
	scripts/install-deps build test bench
	$(CONFIGURE)
	cmake --build $(BUILD) -j $(JOBS)
	bench/run $(ARGS)

# libFuzzer targets (fuzz/), built with clang + ASan + UBSan, each run FUZZ_SECONDS over its
# seed corpus (fuzz/run prints the executions each survived and fails on any finding).
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz:
	scripts/install-deps build fuzz
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1" \
	  -DFLARE_FUZZ=ON -DFLARE_SANITIZE=address,undefined -DFLARE_CUDA=OFF \
	  -DFLARE_BUILD_TESTS=OFF -DFLARE_BUILD_BENCH=OFF -DFLARE_BUILD_EXAMPLES=OFF $(CMAKE_FLAGS) >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	fuzz/run $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

install: build
	cmake --install $(BUILD) --prefix $(or $(PREFIX),/usr/local)

clean:
	rm -rf $(BUILD)
