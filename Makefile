# hawk: `make run` starts a server with a local agent; `make check` runs
# every test (it is what .ci/run runs).
GO ?= go
STATICCHECK = $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run build check deps fmt vet lint test fuzz e2e bench package cross

run: build
	./bin/hawk-server -demo -data ./data

# Static binaries without cgo: they run on any Linux of the fleet, and
# hawk-agent does not map libc (1.5 MiB of its resident memory otherwise).
build:
	CGO_ENABLED=0 $(GO) build -o bin/ ./cmd/...

check: deps fmt vet lint test fuzz e2e

deps:
	./scripts/deps.sh

fmt:
	@out=$$(gofmt -s -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt -s would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

lint:
	$(STATICCHECK) ./...

test:
	$(GO) test -race -count=1 ./...

fuzz:
	./scripts/fuzz.sh

e2e: build
	./scripts/e2e.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

# .deb and .rpm of hawk-agent and hawk-server for amd64 and arm64, in dist/
# (nfpm as a library: scripts/package). VERSION defaults to one that grows
# with the commit count.
VERSION ?= 0.1.0+$(shell git rev-list --count HEAD 2>/dev/null || echo 0).g$(shell git rev-parse --short HEAD 2>/dev/null || echo 0)
PACKAGE_ARCHS ?= amd64 arm64
package:
	@for a in $(PACKAGE_ARCHS); do \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$a $(GO) build -trimpath -ldflags '-s -w' -o dist/build/$$a/ ./cmd/hawk-agent ./cmd/hawk-server || exit 1; \
		$(GO) run ./scripts/package -arch $$a -bin dist/build/$$a -version '$(VERSION)' -out dist || exit 1; \
	done

# Every target hawk builds for, go vet for each system, linux/arm64 under
# qemu (also part of make e2e).
cross: build
	bash scripts/e2e/cross.sh
