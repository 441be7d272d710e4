# syntax=docker/dockerfile:1
#
# Housekeeper server image: a static, trimmed binary on distroless, run as
# the distroless "nonroot" user (65532). Build with
#
#   docker build --build-arg VERSION="$(git describe --tags --always)" -t housekeeper .
#
# Nothing secret goes into this image: the GitHub App private key and the
# webhook secret are mounted at run time (see docs/deploy.md). The build
# context is filtered by .dockerignore (no .git, no keys, no .env files).

FROM golang:1.26 AS build
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

FROM gcr.io/distroless/static-debian12:nonroot

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
