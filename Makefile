# usdtkit: the two commands a new user needs are `make demo` and `make test`.
# Both install what is missing on a fresh Debian 12 machine (as root).

GO        ?= go
BITCOIND  ?=
BUILD     ?= .build
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
USDTKIT   := $(BUILD)/usdtkit
DIST      := $(BUILD)/dist
DIST_ARCH := amd64 arm64
FUZZTIME  ?= 1m
DEMO      := docs/demo
DEMO_BIN  := $(DEMO)/build/minid

# Debian packages: compilers and sys/sdt.h for the fixtures (32-bit and
# aarch64 too), qemu-user to run the arm64 build, the tools usdtkit is
# compared with, kernel headers for bcc, and real programs with USDT notes
# that the readelf oracle test reads.
APT_PACKAGES := gcc g++ make git binutils systemtap-sdt-dev \
	lib32gcc-12-dev libc6-dev-i386 gcc-12-aarch64-linux-gnu g++-12-aarch64-linux-gnu libc6-dev-arm64-cross \
	qemu-user-static tmux nats-server prometheus \
	bpftrace bpfcc-tools python3-bpfcc linux-headers-amd64 \
	postgresql-15 openjdk-17-jre-headless libruby3.1 python3.11 libvirt0 php8.2-cli

.PHONY: all build dist deps demo test bench fuzz clean

all: build

# The binary is static (no cgo: nothing in it needs the C library), so it
# runs as one copied file on any Linux of its architecture. net (through
# pflag) and os/user would otherwise link it against libc, and the dynamic
# loader costs about 1 ms of CPU at every start.
GOBUILD   := CGO_ENABLED=0 $(GO) build -trimpath

build:
	$(GOBUILD) -ldflags "-X main.version=$(VERSION)" -o $(USDTKIT) ./cmd/usdtkit

# dist: what a release ships, in $(DIST): a static binary for linux/amd64
# and one for linux/arm64 (without symbol table and DWARF), completions for
# bash, zsh and fish, a man page per command, and SHA256SUMS of them all
# (sha256sum -c SHA256SUMS checks them). The man pages are written by a
# test, so that the library that makes them stays out of the binary.
dist: build
	rm -rf $(DIST)
	mkdir -p $(DIST)/completion/bash $(DIST)/completion/zsh $(DIST)/completion/fish
	@set -e; for arch in $(DIST_ARCH); do \
		echo "GOOS=linux GOARCH=$$arch $(GOBUILD) -ldflags \"-s -w -X main.version=$(VERSION)\" -o $(DIST)/usdtkit-linux-$$arch ./cmd/usdtkit"; \
		GOOS=linux GOARCH=$$arch $(GOBUILD) -ldflags "-s -w -X main.version=$(VERSION)" -o $(DIST)/usdtkit-linux-$$arch ./cmd/usdtkit; \
	done
	$(USDTKIT) completion bash > $(DIST)/completion/bash/usdtkit
	$(USDTKIT) completion zsh > $(DIST)/completion/zsh/_usdtkit
	$(USDTKIT) completion fish > $(DIST)/completion/fish/usdtkit.fish
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || date +%s) \
		$(GO) test -count=1 -ldflags "-X main.version=$(VERSION)" -run '^TestManPages$$' ./cmd/usdtkit -args -man $(abspath $(DIST))/man
	cd $(DIST) && find . -type f ! -name 'SHA256SUMS*' | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS
	@echo "$(DIST): $$(ls $(DIST) | tr '\n' ' ')"

# deps installs the missing Debian packages and links the kernel headers
# where bcc looks for them. It does nothing when all is there.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root to install:$$missing" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@k=/lib/modules/$$(uname -r); \
	if { [ ! -e $$k/build/include ] || [ ! -e $$k/source/include/linux/kconfig.h ]; } && [ "$$(id -u)" = 0 ]; then \
		hdr=$$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1); \
		if [ -n "$$hdr" ]; then \
			mkdir -p $$k && ln -sfn $$hdr $$k/build && ln -sfn $$(echo $$hdr | sed 's/-amd64$$/-common/') $$k/source; \
			echo "linked $$k/build -> $$hdr and $$k/source -> its -common headers"; \
		fi; \
	fi
	@# bcc falls back to tracefs, and bpftrace 0.17 detaches through it.
	@if [ "$$(id -u)" = 0 ] && [ -d /sys/kernel/tracing ] && ! mountpoint -q /sys/kernel/tracing; then \
		mount -t tracefs nodev /sys/kernel/tracing && echo "mounted tracefs on /sys/kernel/tracing"; \
	fi
	@$(GO) mod download

$(DEMO_BIN): $(wildcard $(DEMO)/src/*.cpp $(DEMO)/src/*/*.h $(DEMO)/src/*.h $(DEMO)/Makefile)
	$(MAKE) -C $(DEMO)

# demo: the main job on the bundled demo target.
demo: deps build $(DEMO_BIN)
	@echo "== usdtkit list $(DEMO_BIN)"
	$(USDTKIT) list $(DEMO_BIN)
	@echo "== usdtkit list -v $(DEMO_BIN) 'validation:*'"
	$(USDTKIT) list -v $(DEMO_BIN) 'validation:*'
	@echo "== usdtkit audit: do the demo's doc/tracing.md, its TRACEPOINT calls and the binary agree?"
	$(USDTKIT) audit --docs $(DEMO)/doc/tracing.md --src $(DEMO)/src $(DEMO_BIN)
	@echo "== usdtkit gen: a bpftrace script for net:inbound_message, run on a minid that waits for it"
	@mkdir -p $(BUILD)
	$(USDTKIT) gen --lang bpftrace --docs $(DEMO)/doc/tracing.md $(DEMO_BIN) net:inbound_message > $(BUILD)/net_inbound_message.bt
	@$(DEMO_BIN) --iterations 2 --interval-ms 0 --wait-for-semaphore 10000 > /dev/null & pid=$$!; \
		BPFTRACE_STRLEN=69 bpftrace -p $$pid $(BUILD)/net_inbound_message.bt; status=$$?; wait $$pid; exit $$status
	@echo "== usdtkit gen: the doc entry of a tracepoint, from the doc and the binary"
	$(USDTKIT) gen --lang doc --docs $(DEMO)/doc/tracing.md $(DEMO_BIN) mempool:added
	@echo "== usdtkit attach: trace a run of the demo, arguments decoded by its doc (needs root)"
	$(USDTKIT) attach $(DEMO_BIN) 'validation:*' 'net:inbound_message' --docs $(DEMO)/doc/tracing.md -- $(DEMO_BIN) --iterations 2 --interval-ms 0
	@echo "== usdtkit verify: every documented tracepoint fires with values that fit its documented type"
	$(USDTKIT) verify $(DEMO_BIN) --docs $(DEMO)/doc/tracing.md --require-all -- $(DEMO_BIN) --iterations 2 --interval-ms 0
	@echo "== usdtkit watch: a rebuild without tracing is renamed into place; watch prints what changed"
	@rm -rf $(BUILD)/watch && mkdir -p $(BUILD)/watch && cp $(DEMO_BIN) $(BUILD)/watch/minid
	@$(MAKE) -s -C $(DEMO) BUILD=$(abspath $(BUILD))/watch/notrace ENABLE_TRACING=0 >/dev/null
	@$(USDTKIT) watch $(BUILD)/watch/minid > $(BUILD)/watch/log 2>&1 & pid=$$!; sleep 1; \
		cp $(BUILD)/watch/notrace/minid $(BUILD)/watch/minid.new && mv $(BUILD)/watch/minid.new $(BUILD)/watch/minid; \
		sleep 1; kill -INT $$pid; wait $$pid; cat $(BUILD)/watch/log
	@echo "== usdtkit list -p PID 'net:*' (a running minid; SEMAPHORE = how many of its call sites are traced)"
	@$(DEMO_BIN) --interval-ms 100 > /dev/null & pid=$$!; sleep 0.3; \
		$(USDTKIT) list -p $$pid 'net:*'; status=$$?; kill $$pid; exit $$status

# test: every test; with CI=true the ones that need root, BPF or a tool run
# and fail instead of skipping. The session's and the exporters' tests run
# again under the race detector.
test: deps build
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...
	$(GO) test -count=1 -race -timeout 10m ./bpf/trace/... ./bpf -run 'WhileClosing|Redact|Creds|Counts|Group|Bounds'

bench: deps build $(DEMO_BIN)
	$(GO) run ./cmd/usdtkit-bench -usdtkit $(USDTKIT) $(if $(BITCOIND),-bitcoind $(BITCOIND))

fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf $(BUILD)
	-$(MAKE) -C $(DEMO) clean
