# boneyard: `make run` builds and starts the dashboard, `make test` installs
# what the tests need and runs every check. No Go package lives here.

GO       ?= go
BIN      := bin/boneyard
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
FUZZTIME ?= 5s
# The browser the end-to-end suite drives; it never downloads one.
CHROMIUM_PATH ?= /usr/bin/chromium
# Extra arguments for Playwright, e.g. E2E_ARGS='tests/reap.spec.ts -g SIGTERM'.
E2E_ARGS ?=
# What make release builds, as GOOS/GOARCH.
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64

export CHROMIUM_PATH

.PHONY: run build generate check-generate check-tidy vet unit crossbuild fuzz e2e-deps chromium e2e test bench release clean

run: build
	./$(BIN)

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) .

generate:
	$(GO) tool templ generate

# Fails when the committed *_templ.go differ from what templ generates.
check-generate:
	$(GO) tool templ generate
	@git diff --exit-code -- '*_templ.go' || { echo "generated templ files are stale: run 'make generate' and commit" >&2; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard -- '*_templ.go')" || { echo "uncommitted generated templ files: run 'make generate' and commit" >&2; exit 1; }

# Fails when go.mod or go.sum do not match the imports.
check-tidy:
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run 'go mod tidy' and commit" >&2; exit 1; }

vet:
	$(GO) vet ./...

# Packages run in parallel: each test owns its directories and registry,
# and tests that scan the host look only at the hub processes they started.
# -parallel 8: the time-bounded stress tests mostly wait on each other's
# file operations, so more of them than cores run at once.
unit:
	$(GO) test -race -count=1 -parallel 8 ./...

crossbuild:
	GOOS=darwin $(GO) build ./...
	GOOS=windows $(GO) build ./...

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzDecodeEntry -fuzztime=$(FUZZTIME) ./registry
	$(GO) test -run='^$$' -fuzz=FuzzIsHubCommand -fuzztime=$(FUZZTIME) ./procscan

# npm ci runs again whenever package.json or the lock file is newer than the
# installed tree.
e2e/node_modules/.package-lock.json: e2e/package.json e2e/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20 or later" >&2; exit 1; }
	cd e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	@touch $@

chromium:
	@if [ -x "$(CHROMIUM_PATH)" ]; then exit 0; \
	elif [ "$(CHROMIUM_PATH)" = /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium with apt-get"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
		echo "no Chromium at $(CHROMIUM_PATH): install it (Debian/Ubuntu: sudo apt-get install -y chromium)," >&2; \
		echo "or point CHROMIUM_PATH at a Chromium or Chrome binary" >&2; \
		exit 1; \
	fi

e2e-deps: e2e/node_modules/.package-lock.json chromium

# Playwright's webServer builds the fake hub and boneyard (into e2e/bin/)
# and runs boneyard with the fake hub as its bones CLI.
e2e: e2e-deps
	cd e2e && GO='$(GO)' npx playwright test $(E2E_ARGS)

# e2e-deps first: a missing browser fails in seconds, not after the unit tests.
test: e2e-deps check-generate check-tidy vet unit crossbuild fuzz e2e

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# Static binaries for every platform in dist/, named
# boneyard-VERSION-GOOS-GOARCH[.exe], with their SHA-256 sums in
# dist/SHA256SUMS (check with: cd dist && sha256sum -c SHA256SUMS).
release:
	rm -rf dist && mkdir -p dist
	@set -e; for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ "$$os" = windows ] && ext=.exe; \
		out=dist/boneyard-$(VERSION)-$$os-$$arch$$ext; echo "build $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$out .; \
	done
	@cd dist && if command -v sha256sum >/dev/null; then sha256sum boneyard-* > SHA256SUMS; else shasum -a 256 boneyard-* > SHA256SUMS; fi
	@cat dist/SHA256SUMS

clean:
	rm -rf bin dist e2e/bin e2e/test-results e2e/playwright-report e2e/screenshots
