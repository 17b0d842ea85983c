# Multi-stage build: compile in the Rust image, run in a slim Debian.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY docs ./docs
RUN cargo build --release --locked && strip target/release/versorgung

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /var/lib/versorgung --create-home versorgung
COPY --from=build /src/target/release/versorgung /usr/local/bin/versorgung
USER versorgung
WORKDIR /var/lib/versorgung
ENV VERSORGUNG_BIND=0.0.0.0:8080 VERSORGUNG_DATA_DIR=/var/lib/versorgung RUST_LOG=info
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD curl -fsS http://127.0.0.1:8080/health/ready || exit 1
ENTRYPOINT ["versorgung"]
CMD ["serve"]
