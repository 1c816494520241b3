# Multi-stage image for every PledgeWatch process (central side, edge agent, simulators).
# Stage 1 builds the native addon (better-sqlite3) with the toolchain; stage 2 ships without it.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY common/package.json common/
COPY store/package.json store/
COPY edge-agent/package.json edge-agent/
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
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080 1883
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD node -e "fetch('http://127.0.0.1:'+(process.env.PW_HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" || exit 1
ENTRYPOINT ["node", "cli/bin/pledgewatch.js"]
CMD ["start"]
