#!/usr/bin/env bash
# Build the test images of tests/images/*: stand-ins for official images that no registry here can
# supply. Each folder holds a Dockerfile and IMAGE (name:tag and build arguments, one image per line).
# Images that exist are kept unless their folder changed (the folder's digest is an image label).
set -euo pipefail
cd "$(dirname "$0")"
# One build at a time on this engine (the e2e and multihost stages run side by side): a second caller waits,
# then finds every image up to date.
exec 9>"${TMPDIR:-/tmp}/plusptt-test-images.lock"
flock 9
export DOCKER_BUILDKIT=0
base_image=${PLUSPTT_TEST_BASE_IMAGE:-plusptt-test/debian:bookworm}
ca_bundle=${PLUSPTT_BUILD_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

for dir in */; do
  dir=${dir%/}
  if [ ! -f "$dir/Dockerfile" ] || [ ! -f "$dir/IMAGE" ]; then continue; fi
  folder_digest=$(cd "$dir" && find . -type f ! -name extra-ca.crt -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum)
  # IMAGE: one line per image, "name:tag [BUILD_ARG=value ...]" (variants of one Dockerfile).
  while read -r image build_args; do
    [ -n "$image" ] || continue
    digest=$(printf '%s %s\n' "$folder_digest" "$build_args" | sha256sum | cut -c1-16)
    current=$(docker image inspect -f '{{ index .Config.Labels "plusptt.test-image-digest" }}' "$image" 2>/dev/null || true)
    if [ "$current" = "$digest" ]; then
      echo "[test-images] $image is up to date"
      continue
    fi
    echo "[test-images] building $image"
    args=(--build-arg BASE_IMAGE="$base_image")
    for arg in $build_args; do args+=(--build-arg "$arg"); done
    if [ -r "$ca_bundle" ]; then cp "$ca_bundle" "$dir/extra-ca.crt"; else : > "$dir/extra-ca.crt"; fi
    docker build -q "${args[@]}" --label plusptt.test-image-digest="$digest" -t "$image" "$dir" >/dev/null
    rm -f "$dir/extra-ca.crt"
  done < "$dir/IMAGE"
done
