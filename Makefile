# boneyard: `make run` builds and starts the dashboard, `make test` installs
# what the tests need and runs every check. No Go package lives here.

GO      ?= go
BIN     := bin/boneyard
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
FUZZTIME ?= 5s

.PHONY: run build generate check-generate vet unit crossbuild fuzz e2e-deps e2e test bench clean

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

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 ./...

crossbuild:
	GOOS=darwin $(GO) build ./...
	GOOS=windows $(GO) build ./...

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzDecodeEntry -fuzztime=$(FUZZTIME) ./registry
	$(GO) test -run='^$$' -fuzz=FuzzIsHubCommand -fuzztime=$(FUZZTIME) ./procscan

test: check-generate vet unit crossbuild fuzz e2e

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

clean:
	rm -rf bin e2e/test-results e2e/playwright-report
