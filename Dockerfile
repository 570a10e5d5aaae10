# syntax=docker/dockerfile:1
# Build: docker build -t clientele .
# Run (SQLite on a volume):  docker run -p 8080:8080 -v clientele-data:/var/lib/clientele clientele
# Run (PostgreSQL):          docker run -p 8080:8080 -e CLIENTELE_ENV=production \
#                              -e CLIENTELE_DATABASE_URL=postgres://user:pass@db/clientele clientele

FROM rust:1.95-bookworm AS build
WORKDIR /src
# Dependencies only, in their own layer: rebuilt when Cargo.toml or
# Cargo.lock change, not when the code does. Every target the manifest
# names needs a file (cargo refuses a [[bench]] without one): dummies here.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src benches && echo 'fn main() {}' > src/main.rs \
    && cp src/main.rs benches/authentication.rs \
    && cargo build --release --locked \
    && rm -rf src benches
COPY . .
# The dummy's artifacts are older than the real sources; touch to rebuild.
RUN touch src/main.rs && cargo build --release --locked --bin clientele

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/clientele --create-home clientele
COPY --from=build /src/target/release/clientele /usr/local/bin/clientele
USER clientele
WORKDIR /var/lib/clientele
ENV CLIENTELE_BIND=0.0.0.0:8080 \
    CLIENTELE_DATABASE_URL=sqlite:///var/lib/clientele/clientele.db
VOLUME /var/lib/clientele
EXPOSE 8080
ENTRYPOINT ["clientele"]
