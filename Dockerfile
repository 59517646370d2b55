# syntax=docker/dockerfile:1
# Turnout's container image: a release build in a Rust image, then only the binary on a slim
# Debian runtime, run as an unprivileged user. The embedded SQLite deployment keeps its data in
# the /data volume; for PostgreSQL, set DATABASE_URL (see docs/deploy.md).
#
#   docker build -t turnout .
#   docker run -p 8080:8080 -v turnout-data:/data turnout

# rust-toolchain.toml pins the toolchain; rustup in this image installs it on first use.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# The registry and the build directory are BuildKit caches: a rebuild after a code change
# compiles Turnout's own crates, not its ~500 dependencies.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin turnout \
 && cp target/release/turnout /usr/local/bin/turnout

FROM debian:bookworm-slim
# CA certificates for SMTP, Twilio and webhooks over TLS (time zones are built into the binary).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin turnout \
 && mkdir -p /data \
 && chown turnout /data
COPY --from=build /usr/local/bin/turnout /usr/local/bin/turnout
USER turnout
WORKDIR /data
ENV DATABASE_URL="sqlite:///data/turnout.db?mode=rwc" \
    TURNOUT_LISTEN="0.0.0.0:8080" \
    TURNOUT_LOG_FORMAT="json"
VOLUME ["/data"]
EXPOSE 8080
# `docker stop` sends SIGTERM: Turnout stops taking requests, lets running jobs finish, exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["turnout"]
CMD ["serve"]
