# Verity's image: Node 20 on Debian slim, the compiled JavaScript and production dependencies only,
# run as the unprivileged `node` user. Nothing is fetched at run time (the dashboard's and
# GraphiQL's assets come from node_modules). Build: docker build -t verity .  Run: docker compose up

FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 builds from source where no prebuilt binary fits.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json prisma.config.ts tsconfig.json tsconfig.build.json ./
COPY prisma ./prisma
COPY scripts ./scripts
COPY src ./src
# The client package is a workspace of the root package: npm ci installs (and the build compiles) it too.
COPY packages ./packages
# Installs everything, generates the Prisma clients and compiles src to dist (postinstall).
RUN npm ci && npm prune --omit=dev && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000 DATABASE_URL=file:/app/data/verity.db VERITY_CONFIG=/app/verity.config.json
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/prisma/migrations ./prisma/migrations
COPY bin ./bin
COPY verity.config.json ./
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME /app/data
EXPOSE 4000
# Liveness: /healthz answers as soon as the server listens, also during a long rebuild at start.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/healthz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/verity.mjs"]
CMD ["serve"]
