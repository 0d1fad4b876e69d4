# syntax=docker/dockerfile:1
# The gateway image: compiled JavaScript on node:24-slim, production dependencies only, run as the
# unprivileged `node` user. Build: docker build -t iometer-gateway .

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json .meshrc.yaml ./
COPY additional-typedefs ./additional-typedefs
COPY resolvers ./resolvers
COPY scripts ./scripts
COPY src ./src
# mesh build (.mesh artifact), then tsc to dist/ with the runtime assets (migrations, SDL, GraphiQL examples).
RUN npm run build

FROM node:24-slim AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
# No production dependency has an install script (esbuild, tsx's, is a dev dependency).
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    PORT=4000
WORKDIR /app
# Code and dependencies stay root-owned, so the process cannot change them; only data/ (the
# embedded PGlite when DATABASE_URL is unset, i.e. sandbox mode) is writable.
COPY --from=production-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir data && chown node:node data
USER node
EXPOSE 4000
# Liveness (/healthz): the process answers. Readiness, including IOmeter, Redis and the database,
# is /readyz, which orchestrators probe separately (deploy/deployment.yaml). Slim images have no curl.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node directly, not npm: SIGTERM from the orchestrator reaches the gateway's graceful shutdown.
CMD ["node", "dist/src/main.js"]
