# syntax=docker/dockerfile:1
#
# ecs-env as a fully static binary in an image of its own: the binary and the public CA
# certificates, nothing else (no shell, no libc). Build it with your normal registry access:
#
#   docker build -t ecs-env .
#
# Then copy it into your application's image (see docs/containers.md):
#
#   COPY --from=ecs-env /ecs-env /usr/local/bin/ecs-env
#
# The build stage compiles for the machine's own architecture (x86_64 or aarch64) with musl,
# so `docker buildx build --platform linux/amd64,linux/arm64` builds both.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
# musl-tools: the C compiler aws-lc (the TLS library of the AWS SDK) is built with.
# ca-certificates: the bundle copied into the final image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    target="$(uname -m)-unknown-linux-musl" \
 && rustup target add "$target" \
 && cargo build --release --locked --bin ecs-env --target "$target" \
 && cp "target/$target/release/ecs-env" /ecs-env

FROM scratch
# rustls (through the AWS SDK) reads the system's CA bundle: /etc/ssl/certs/ca-certificates.crt
# is the first path it looks for. Without it, every https request to AWS fails with
# "invalid peer certificate: UnknownIssuer".
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /ecs-env /ecs-env
ENTRYPOINT ["/ecs-env"]
