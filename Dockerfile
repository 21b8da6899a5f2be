# Switchyard with the example handlers, for docker-compose.yml. Production images would run the
# compiled dist/ with your own handlers module; this one favours a one-command demo.
FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY types ./types
COPY examples/new-handlers.ts ./examples/new-handlers.ts
COPY flags ./flags
EXPOSE 8080
USER node
CMD ["npx", "tsx", "src/main.ts", "--handlers", "examples/new-handlers.ts"]
