# The two commands of the quick start, plus a few conveniences.
#   make demo   sets up and runs the example job on the embedded RocksDB backend
#   make test   sets up and runs every test (sanitizer builds included)
RELEASE_DIR := build/release
JOBS := $(shell nproc)

.PHONY: setup build demo test bench install clean

setup:
	@scripts/setup.sh

build: setup
	@cmake -S . -B $(RELEASE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTREAMSTATE_BUILD_TESTS=OFF >/dev/null
	@cmake --build $(RELEASE_DIR) -j$(JOBS)

demo: build
	@$(RELEASE_DIR)/examples/click_pipeline --dir build/demo

test:
	@scripts/test.sh

bench: build
	@$(RELEASE_DIR)/bench/streamstate-bench backends
	@$(RELEASE_DIR)/bench/streamstate-bench state
	@$(RELEASE_DIR)/bench/streamstate-bench checkpoint
	@$(RELEASE_DIR)/bench/streamstate-bench wal
	@$(RELEASE_DIR)/bench/streamstate-bench cache
	@$(RELEASE_DIR)/bench/streamstate-bench pipeline

install: build
	@cmake --install $(RELEASE_DIR) --prefix $(or $(PREFIX),/usr/local)

clean:
	@rm -rf build
