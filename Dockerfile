# openrouter-watcher: the server and `orw` with the embedded SQLite database under /data.
# Build: docker build -t openrouter-watcher .
# Run:   docker run -p 8000:8000 -v orw-data:/data \
#          -e SECRET_KEY=$(openssl rand -hex 32) -e ENCRYPTION_KEY=$(openssl rand -hex 32) openrouter-watcher
# Admin: docker exec <container> orw doctor
FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles from source against the image's own Node headers.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
RUN npm install --global pnpm@12.4.2
WORKDIR /src
COPY pnpm-workspace.yaml package.json pnpm-lock.yaml ./
COPY packages/domain/package.json packages/domain/
COPY packages/server/package.json packages/server/
COPY packages/web/package.json packages/web/
COPY packages/cli/package.json packages/cli/
COPY tests/package.json tests/
COPY bench/package.json bench/
RUN pnpm install --frozen-lockfile
COPY . .
# The bundles, the web build and the runtime packages only (tests/reliability/runtime.test.ts runs the same).
RUN node scripts/package.mjs /out

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8000 DATA_DIR=/data
WORKDIR /app
COPY --from=build /out /app
# The image's `node` user (uid 1000) runs the server and owns the data volume; /app stays read-only to it.
RUN ln -s /app/bin/orw /usr/local/bin/orw \
  && mkdir -p /data && chown node:node /data && chmod 700 /data
VOLUME ["/data"]
EXPOSE 8000
USER node
# Production refuses to start without SECRET_KEY and ENCRYPTION_KEY (32+ characters each).
# The probe sends a Host that ALLOWED_HOSTS accepts (node:http lets it set one; fetch does not).
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s CMD node -e "const h=(process.env.ALLOWED_HOSTS||'localhost').split(',')[0].trim().replace(/^\*\.?/,'probe.');require('http').get({host:'127.0.0.1',port:process.env.PORT||8000,path:'/healthz',headers:{host:h||'localhost'}},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
# node runs as PID 1 with its own signal handlers: docker stop's SIGTERM reaches it and it drains gracefully.
STOPSIGNAL SIGTERM
CMD ["node", "packages/server/dist/main.mjs"]
