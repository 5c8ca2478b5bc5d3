# syntax=docker/dockerfile:1
# The SwapLess server as a container image (docs/deploy.md, "The container image").
#
#   docker build -t swapless-server:0.1.0 .                                   # emulated Edge TPU only
#   docker build -t swapless-server:0.1.0-edgetpu --build-arg EDGETPU=std .   # + Coral's libedgetpu
#
# Stages: `build` installs exactly what package-lock.json says (`npm ci`, which also compiles the native TFLite
# addon with node-gyp and builds every package), then drops the dev dependencies without re-running any install
# script; the image is a slim Node image with the built tree, running as an unprivileged user. EDGETPU=std or max
# adds Coral's Edge TPU runtime (libedgetpu1-std / libedgetpu1-max, and edgetpu-compiler on x86-64) from Coral's
# own apt repository; the default (none) adds nothing and serves with the emulated device. Needs BuildKit
# (Docker's default builder since 23.0), which builds only the stages the chosen EDGETPU needs.

ARG NODE_VERSION=20.20.2
ARG EDGETPU=none

# ---- build: toolchain, npm ci, native addon, tsup builds ------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm AS build
# The full bookworm image already has python3, make and g++ for node-gyp; the headers come with Node itself.
WORKDIR /opt/swapless
# The npm the lockfile was written with (package.json "packageManager"): it honours "allowScripts", so
# tfjs-tflite-node's own install step (a binding SwapLess never loads) does not run.
RUN npm install -g npm@11.19.1
COPY . .
RUN npm ci --no-audit --no-fund \
 && test -f native/tflite-addon/build/Release/swapless_tflite.node \
 && test -f apps/server/dist/index.js \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf .turbo node_modules/.cache

# ---- runtime without the Edge TPU runtime -------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime-none

# ---- runtime with Coral's libedgetpu (optional: --build-arg EDGETPU=std or max) -----------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime-edgetpu
ARG EDGETPU
ARG DEBIAN_FRONTEND=noninteractive
# libedgetpu1-max asks, through debconf, to confirm running the accelerator at its maximum clock (it runs hot): a
# build cannot answer, so choosing EDGETPU=max is taken as the answer.
RUN echo "libedgetpu1-max libedgetpu/accepted-eula boolean true" | debconf-set-selections \
 && apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg \
 && curl -fsSL https://packages.cloud.google.com/apt/doc/apt-key.gpg \
      | gpg --dearmor -o /usr/share/keyrings/coral-edgetpu.gpg \
 && echo "deb [signed-by=/usr/share/keyrings/coral-edgetpu.gpg] https://packages.cloud.google.com/apt coral-edgetpu-stable main" \
      > /etc/apt/sources.list.d/coral-edgetpu.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends "libedgetpu1-${EDGETPU}" \
 && if [ "$(dpkg --print-architecture)" = amd64 ]; then apt-get install -y --no-install-recommends edgetpu-compiler; fi \
 && apt-get purge -y curl gnupg && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
FROM runtime-edgetpu AS runtime-std
FROM runtime-edgetpu AS runtime-max

# ---- the image ----------------------------------------------------------------------------------------------------
FROM runtime-${EDGETPU} AS runtime
# An unprivileged user with a fixed uid/gid (the Kubernetes manifests run as 10001 too); plugdev lets it open a
# USB Accelerator whose udev rule grants that group.
RUN groupadd --system --gid 10001 swapless \
 && useradd --system --uid 10001 --gid swapless --groups plugdev --home-dir /var/lib/swapless --shell /usr/sbin/nologin swapless \
 && mkdir -p /var/lib/swapless /var/cache/swapless /mnt/models \
 && chown swapless:swapless /var/lib/swapless /var/cache/swapless
WORKDIR /opt/swapless
COPY --from=build --chown=root:root /opt/swapless /opt/swapless
ENV NODE_ENV=production \
    SWAPLESS_HOST=0.0.0.0 \
    SWAPLESS_PORT=8080 \
    SWAPLESS_CACHE_DIR=/var/cache/swapless \
    SWAPLESS_REPOSITORY=/mnt/models
USER 10001:10001
EXPOSE 8080
# SIGTERM drains in-flight requests (docs/server.md, "Shutdown"); node is PID 1 and handles it itself.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/opt/swapless/apps/server/bin/swapless-server.js"]
CMD []
