# syntax=docker/dockerfile:1
#
# Housekeeper server image: a static, trimmed binary on distroless, run as
# the distroless "nonroot" user (65532). Build with
#
#   docker build --build-arg VERSION="$(git describe --tags --always)" -t housekeeper .
#
# Base images are named by tag; pin them by digest with build arguments
# (docs/deploy.md says how to look the digests up):
#
#   docker build --build-arg GO_DIGEST=sha256:… --build-arg RUNTIME_DIGEST=sha256:… …
#
# Nothing secret goes into this image: the GitHub App private key and the
# webhook secret are mounted at run time (see docs/deploy.md). The build
# context is filtered by .dockerignore (no .git, no keys, no .env files).

# Empty: the tag alone. A digest (sha256:…) pins the exact image.
ARG GO_DIGEST=
ARG RUNTIME_DIGEST=

FROM golang:1.26${GO_DIGEST:+@}${GO_DIGEST} AS build
WORKDIR /src

# Modules first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify

COPY . .

ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/housekeeper ./cmd/housekeeper

FROM gcr.io/distroless/static-debian12:nonroot${RUNTIME_DIGEST:+@}${RUNTIME_DIGEST}

ARG VERSION=dev
LABEL org.opencontainers.image.title="housekeeper" \
      org.opencontainers.image.description="GitHub App that checks the directory map and secret hygiene of pull requests" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/housekeeper-app/housekeeper"

COPY --from=build /out/housekeeper /housekeeper

USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/housekeeper"]
CMD ["serve"]
