# Build: a static, CGO-free binary (the SQLite driver is pure Go).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/authserver . && mkdir -p /out/data

# Run: distroless static (CA certificates, /etc/passwd with nonroot), nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/authserver /authserver
COPY --from=build --chown=nonroot:nonroot /out/data /data
ENV DATA_DIR=/data PORT=8000
VOLUME /data
EXPOSE 8000
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s CMD ["/authserver", "healthcheck"]
ENTRYPOINT ["/authserver"]
