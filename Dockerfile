# Pitlane: multi-stage build, small runtime image, non-root, data in a volume.
#   docker build -t pitlane .
#   docker run -p 80:8080 -p 443:8443 -p 8226:8226 -p 8228:8228 -p 7003:7003 -p 43300:43300 -v pitlane-data:/data pitlane
FROM rust:1-bookworm AS build
WORKDIR /src
# perl and make build the vendored OpenSSL of the legacy-tls feature.
RUN apt-get update && apt-get install -y --no-install-recommends perl make && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cargo build --release -p pitlane && strip target/release/pitlane

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /data --uid 10001 pitlane \
    && mkdir -p /data && chown pitlane /data
COPY --from=build /src/target/release/pitlane /usr/local/bin/pitlane
COPY packaging/container.toml /etc/pitlane/pitlane.toml
USER pitlane
VOLUME ["/data"]
# Unprivileged ports inside the container; map 80/443 to them outside.
EXPOSE 8080 8443 8226 8228 7003 43300 8081
ENV PITLANE_CONFIG=/etc/pitlane/pitlane.toml PITLANE_DATA_DIR=/data
ENTRYPOINT ["pitlane"]
CMD ["serve"]
