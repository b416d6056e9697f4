# syntax=docker/dockerfile:1
# A static tusgate on distroless, running as an unprivileged user.
#   docker build -t tusgate .
#   docker run -p 8080:8080 -v tusgate-data:/data tusgate
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO off: a static binary that needs no libc in the image.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/tusgate ./cmd/tusgate \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tusgate /usr/local/bin/tusgate
# The embedded defaults (file bytes, bolt state) need a writable place;
# production points TUSGATE_STORE and TUSGATE_STATE at S3 and Redis.
COPY --from=build --chown=65532:65532 /out/data /data
VOLUME ["/data"]
USER 65532:65532
ENV TUSGATE_LISTEN=:8080 \
    TUSGATE_STORE=file:///data/files \
    TUSGATE_STATE=bolt:///data/tusgate.db \
    TUSGATE_LOG_FORMAT=json
EXPOSE 8080
# No shell or curl in the image: the binary probes itself.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/tusgate", "healthcheck", "-timeout", "2s", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/usr/local/bin/tusgate"]
