# syntax=docker/dockerfile:1
# A static (musl) release binary on distroless static, as user 65532.
# Build: docker build --build-arg REVISION="$(git rev-parse --short=12 HEAD)" -t qdrant-exporter .

FROM rust:1.95-alpine AS build
# musl's C headers for mimalloc, the allocator of every build (see src/main.rs); the
# package follows the base image's Alpine release, so it is not pinned here.
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev
WORKDIR /src
# Dependencies first, in their own layer: rebuilt only when the manifests or the lock file change.
COPY Cargo.toml Cargo.lock build.rs ./
COPY mock-qdrant/Cargo.toml mock-qdrant/
RUN mkdir -p src benches mock-qdrant/src \
    && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && echo 'fn main() {}' > benches/exporter.rs \
    && echo 'fn main() {}' > mock-qdrant/src/main.rs && touch mock-qdrant/src/lib.rs \
    && cargo build --release --locked --package qdrant-exporter
COPY src src
ARG REVISION=unknown
ENV QDRANT_EXPORTER_REVISION=${REVISION}
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --package qdrant-exporter

FROM gcr.io/distroless/static-debian12:nonroot
ARG REVISION=unknown
LABEL org.opencontainers.image.title="qdrant-exporter" \
      org.opencontainers.image.description="Prometheus exporter for the Qdrant vector database" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /src/target/release/qdrant-exporter /qdrant-exporter
USER 65532:65532
EXPOSE 9999
ENTRYPOINT ["/qdrant-exporter"]
