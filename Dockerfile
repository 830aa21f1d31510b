# syntax=docker/dockerfile:1
# redshift-auth-proxy container image.
#   docker build -t redshift-auth-proxy .
#   docker run --rm -e AWS_PROFILE=analytics -v ~/.aws:/home/node/.aws:ro redshift-auth-proxy \
#     --listen 127.0.0.1:5439 --upstream my-cluster.abc123xyz.us-east-1.redshift.amazonaws.com
# The proxy lets clients in without a password, so it listens on loopback: run it where the client shares its
# network namespace (a Kubernetes pod, docker compose `network_mode: service:proxy`); see config/.

ARG NODE_IMAGE=node:24-bookworm-slim

# Build stage: the full toolchain, compiled to dist/src.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies and the compiled code only.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
# The node images' unprivileged user (uid 1000).
USER node
# Health and metrics on loopback by default; the HEALTHCHECK below reads this same variable. In Kubernetes set it
# to 0.0.0.0:9090 so the kubelet and Prometheus can reach it (it serves no data and no secret).
ENV REDSHIFT_AUTH_PROXY_HTTP_LISTEN=127.0.0.1:9090
EXPOSE 5439 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["node", "dist/src/admin/healthcheck.js"]
ENTRYPOINT ["node", "dist/src/bin.js"]
# Loopback only: listening on 0.0.0.0 needs client authentication on the listener (a later issue); until then
# share the client's network namespace instead of publishing the port.
CMD ["--listen", "127.0.0.1:5439"]
