# syntax=docker/dockerfile:1
# Build: docker build -t clientele .
# Run (SQLite on a volume):  docker run -p 8080:8080 -v clientele-data:/var/lib/clientele \
#                              -e CLIENTELE_JWT_SECRET=... clientele
#                            then: docker exec <container> clientele org create --name Acme
# Run (PostgreSQL):          docker run -p 8080:8080 -e CLIENTELE_JWT_SECRET=... \
#                              -e CLIENTELE_DATABASE_URL=postgres://user:pass@db/clientele clientele
# The image runs the production profile; -e CLIENTELE_ENV=development for a
# first-run key printed in the logs.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# Dependencies only, in their own layer: rebuilt when Cargo.toml or
# Cargo.lock change, not when the code does. Every target the manifest
# names needs a file (cargo refuses a [[bench]] without one): dummies here.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src benches && echo 'fn main() {}' > src/main.rs \
    && cp src/main.rs benches/authentication.rs && cp src/main.rs benches/webhook_receiver.rs \
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
# Production unless told otherwise: no first-run key printed into the
# container's logs, a JWT secret required, https-only public webhooks.
ENV CLIENTELE_ENV=production \
    CLIENTELE_BIND=0.0.0.0:8080 \
    CLIENTELE_DATABASE_URL=sqlite:///var/lib/clientele/clientele.db
VOLUME /var/lib/clientele
EXPOSE 8080
ENTRYPOINT ["clientele"]
