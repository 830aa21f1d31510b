# syntax=docker/dockerfile:1
# redshift-auth-proxy container image: Node 24 (the current LTS), runs as the unprivileged user `node` (uid 1000).
#   docker build -t redshift-auth-proxy:local .
#   docker run --rm -e AWS_PROFILE=analytics -v ~/.aws:/home/node/.aws:ro redshift-auth-proxy:local \
#     --listen 127.0.0.1:5439 --upstream my-cluster.abc123xyz.us-east-1.redshift.amazonaws.com
# By default the proxy listens on 127.0.0.1:5439 inside the container, for clients that share its network
# namespace (a Kubernetes pod, docker compose `network_mode: service:proxy`). To serve other hosts, listen on
# 0.0.0.0 with client authentication: REDSHIFT_AUTH_PROXY_CLIENT_PASSWORD (SCRAM-SHA-256) and/or --client-ca, with
# --client-tls-cert/--client-tls-key; the proxy refuses a non-loopback listener without it. See config/ and
# docs/SECURITY.md. test/ops/image-build.test.ts runs this file's COPY and RUN steps without a Docker daemon.

ARG NODE_IMAGE=node:24-bookworm-slim

# Build stage: the full toolchain, compiled to dist/src.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: package.json's `prepare` builds, and the sources are not here yet (they are built below).
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies and the compiled code only.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no compiler here for `prepare`; the compiled code comes from the build stage.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
# The node images' unprivileged user (uid 1000).
USER node
# Health and metrics on loopback by default; the HEALTHCHECK below reads this same variable. In Kubernetes set it
# to 0.0.0.0:9090 so the kubelet and Prometheus can reach it (it serves no data and no secret).
ENV REDSHIFT_AUTH_PROXY_HTTP_LISTEN=127.0.0.1:9090
EXPOSE 5439 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["node", "dist/src/admin/healthcheck.js"]
ENTRYPOINT ["node", "dist/src/bin.js"]
CMD ["--listen", "127.0.0.1:5439"]
