# 1. The web app (the committed web/dist is rebuilt here, so the image never ships a stale one).
FROM node:20-bookworm-slim AS web
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

# 2. A static, CGO-free binary (the SQLite driver is pure Go) with the app embedded.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=web /src/web/dist ./web/dist
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/authserver . && mkdir -p /out/data

# 3. Runtime: distroless static (CA certificates, a nonroot user), nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/authserver /authserver
COPY --from=build --chown=nonroot:nonroot /out/data /data
ENV DATA_DIR=/data PORT=8000
VOLUME /data
EXPOSE 8000
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s CMD ["/authserver", "healthcheck"]
ENTRYPOINT ["/authserver"]
