# One image for every PledgeWatch process: central side (`start`, or a part of it with `start --roles …`),
# edge agent (`edge`), simulators.
# Stage 1 installs production dependencies with the toolchain (better-sqlite3 may compile from source);
# stage 2 ships them and the TypeScript sources, run through tsx, without the toolchain.
FROM node:20-bookworm AS build
WORKDIR /app
# Manifests first, so dependency layers are rebuilt only when they change. Every workspace of the
# root package.json must be listed here (npm ci checks the lockfile against them);
# cli/test/deploy.test.ts fails when one is missing.
COPY package.json package-lock.json ./
COPY common/package.json common/
COPY store/package.json store/
COPY edge-agent/package.json edge-agent/
COPY webhooks/package.json webhooks/
COPY ingest/package.json ingest/
COPY monitor-api/package.json monitor-api/
COPY simulators/package.json simulators/
COPY cli/package.json cli/
COPY bench/package.json bench/
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .

FROM node:20-bookworm-slim
ENV NODE_ENV=production PW_DATA_DIR=/data PW_HTTP_HOST=0.0.0.0 PW_MQTT_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app /app
# /mosquitto-auth: where `gateway create` & co. keep Mosquitto's password and ACL files (shared with
# the broker in docker-compose.yml). Made here so named volumes start out owned by `node`.
RUN mkdir -p /data /mosquitto-auth && chown node:node /data /mosquitto-auth
USER node
VOLUME ["/data"]
# 8080: HTTP API (without the api role: /healthz, /readyz, /metrics only); 1883: the embedded broker
# (only without PW_MQTT_URL).
EXPOSE 8080 1883
# Liveness of the central side; edge agents and simulators have no HTTP port and switch it off.
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD node -e "fetch('http://127.0.0.1:'+(process.env.PW_HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" || exit 1
ENTRYPOINT ["node", "cli/bin/pledgewatch.js"]
CMD ["start"]
