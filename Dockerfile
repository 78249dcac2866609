# Gatehouse: one process, configured by environment (see README and docs/deploy.md). Node 24 LTS
# runs the TypeScript sources directly (type stripping); there is no build step.
# test/integration/production_install.test.ts replays this file's COPY and RUN steps (no
# container engine runs in CI): keep to plain COPY, RUN and CMD forms it can read.

# Production dependencies only, installed in a stage of their own so that npm's cache and the
# lockfile's install never reach the image.
FROM node:24-bookworm-slim AS dependencies
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY views ./views
COPY public ./public
COPY knexfile.ts ./

# The embedded database lives here when DATABASE_URL is unset; mount a volume to keep it. The
# code stays root's: the server's user can write its data, never its own sources.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME /app/data
USER node
EXPOSE 3000
# Slim images have no curl: Node's own fetch asks /healthz.
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# `docker run --rm IMAGE node bin/gatehouse.js migrate` (or any other command) runs the CLI once.
CMD ["node", "src/main.ts"]
