# Base images are named by tag. To pin them (reproducible builds), append the digest the registry
# reports for each tag, e.g. `docker buildx imagetools inspect gcr.io/distroless/static-debian12:nonroot`
# gives "Digest: sha256:…", and pass it as a build argument:
#   docker build --build-arg RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot@sha256:… .
# or edit the defaults below. Keep the tag beside the digest: the tag says what the image is, the
# digest decides which one it is.
ARG NODE_IMAGE=node:20-bookworm-slim
ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

# 1. The web app (the committed web/dist is rebuilt here, so the image never ships a stale one).
FROM ${NODE_IMAGE} AS web
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

# 2. A static, CGO-free binary (the SQLite driver is pure Go) with the app embedded, stamped with
# the version (`make docker` passes `git describe`; .git is not in the build context).
FROM ${GO_IMAGE} AS build
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=web /src/web/dist ./web/dist
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/authserver . \
    && mkdir -m 0700 /out/data

# 3. Runtime: distroless static (CA certificates, a nonroot user with uid/gid 65532), nothing else.
# The data folder is 0700 and owned by that user; a bind-mounted folder must be too
# (chown 65532:65532 ./data && chmod 700 ./data).
FROM ${RUNTIME_IMAGE}
COPY --from=build /out/authserver /authserver
COPY --from=build --chown=nonroot:nonroot /out/data /data
# Production by default: a strong BETTER_AUTH_SECRET and an https:// BETTER_AUTH_URL are required,
# rate limits are on and logs are JSON. Pass -e APP_ENV=development for a local try.
ENV APP_ENV=production DATA_DIR=/data PORT=8000
VOLUME /data
EXPOSE 8000
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s CMD ["/authserver", "healthcheck"]
ENTRYPOINT ["/authserver"]
