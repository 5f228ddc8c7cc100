# A thin layer over CMake: each target installs what is missing (scripts/install-deps),
# configures, builds, then runs. BUILD=dir picks the build folder; JOBS=n the parallelism.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
CONFIGURE = cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

.PHONY: all build demo test bench fuzz install clean

all: build

build:
	scripts/install-deps build test
	$(CONFIGURE)
	cmake --build $(BUILD) -j $(JOBS)

# The flagship demo (see README): until charlm lands, the first examples of the original README.
demo:
	scripts/install-deps build test demo
	$(CONFIGURE)
	cmake --build $(BUILD) -j $(JOBS) --target hello logreg
	$(BUILD)/examples/hello
	$(BUILD)/examples/logreg

test:
	scripts/install-deps build test
	$(CONFIGURE)
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench:
	scripts/install-deps build test bench
	$(CONFIGURE)
	cmake --build $(BUILD) -j $(JOBS)
	bench/run $(ARGS)

install: build
	cmake --install $(BUILD) --prefix $(or $(PREFIX),/usr/local)

clean:
	rm -rf $(BUILD)
