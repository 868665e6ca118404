# hawk in a container: static binaries on distroless, run as non-root.
#
#   docker build -t hawk .
#   docker run -d -p 9876:9876 -p 9877:9877 -v hawk-data:/var/lib/hawk hawk
#   docker run -d --pid host --net host -v /:/host:ro,rslave hawk \
#       /usr/bin/hawk-agent -server collector:9876 -procfs /host/proc -sysfs /host/sys -rootfs /host \
#       -spool /var/lib/hawk/agent
#
# The image holds both binaries; it starts hawk-server by default, whose
# /metrics the health check reads.
ARG GO_VERSION=1.26
FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o /out/ ./cmd/hawk-server ./cmd/hawk-agent \
	&& mkdir -p /out/data && chown 65532:65532 /out/data

# busybox's wget is the only tool the image carries: the health check's
# HTTP GET (distroless has no shell and no curl).
FROM busybox:1.37-musl AS busybox

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hawk-server /out/hawk-agent /usr/bin/
COPY --from=build --chown=65532:65532 /out/data /var/lib/hawk
COPY --from=busybox /bin/busybox /usr/bin/busybox
USER 65532:65532
VOLUME /var/lib/hawk
EXPOSE 9876 9877
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
	CMD ["/usr/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9877/metrics"]
ENTRYPOINT []
CMD ["/usr/bin/hawk-server", "-listen", ":9876", "-http", ":9877", "-data", "/var/lib/hawk"]
