#!/bin/sh
# Start tritonserver with the champion loaded and every API but health and inference behind the control key.
#
# The `serving-reconcile` service has pinned the champion in the model's config.pbtxt before this runs (and the
# hourly `reconcile_serving` task corrects the pin after a restart that happened without it); with no config there
# is no champion yet and nothing is loaded.
#
# The key comes from LLMOPS_TRITON_CONTROL_KEY_FILE (a Docker secret, preferred) or LLMOPS_TRITON_CONTROL_KEY, never
# from the compose command: this script builds the restricted-API flags itself and refuses to start without a key.
# tritonserver takes the key only as an argument, so it is visible in this container's process list (and to root
# on the host); keep the container to itself. The categories match RESTRICTED_APIS in llmops/serving/server.py.
set -eu

fail() {
  echo "triton-start.sh: $*" >&2
  exit 64
}

[ "$#" -gt 0 ] || fail "no command given (expected: tritonserver --model-repository=... ...)"
for arg in "$@"; do
  case "$arg" in
    --http-restricted-api*|--grpc-restricted-protocol*)
      fail "remove $(printf '%s' "$arg" | cut -d= -f1) from the command: this entrypoint builds the restricted-API flags from LLMOPS_TRITON_CONTROL_KEY(_FILE), so the key stays out of the compose file" ;;
  esac
done

key="${LLMOPS_TRITON_CONTROL_KEY:-}"
key_file="${LLMOPS_TRITON_CONTROL_KEY_FILE:-}"
if [ -n "$key_file" ]; then
  [ -r "$key_file" ] || fail "LLMOPS_TRITON_CONTROL_KEY_FILE=$key_file is not a readable file"
  key="$(head -n 1 "$key_file" | tr -d '\r\n')"
fi
unset LLMOPS_TRITON_CONTROL_KEY  # tritonserver and its Python stubs do not need it in their environment
[ -n "$key" ] || fail "no control key: set LLMOPS_TRITON_CONTROL_KEY_FILE (a Docker secret) or LLMOPS_TRITON_CONTROL_KEY; Triton does not start with its model-control, config, statistics and shared-memory APIs open"
case "$key" in
  *[!A-Za-z0-9._~+/-]*) fail "the control key may only hold [A-Za-z0-9._~+/-] (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')" ;;
esac
[ "${#key}" -ge 16 ] || fail "the control key is ${#key} characters long; use at least 16 (32 random bytes recommended)"
[ "${#key}" -le 256 ] || fail "the control key is ${#key} characters long; use at most 256"

header="${LLMOPS_TRITON_CONTROL_HEADER:-triton-model-control-key}"
case "$header" in
  ""|*[!A-Za-z0-9-]*) fail "LLMOPS_TRITON_CONTROL_HEADER=$header: expected 1-64 characters from [A-Za-z0-9-]" ;;
esac

# health (probes) and inference (clients) stay open; everything else needs the key, on HTTP and gRPC alike.
# shared-memory is the entry of the August 2025 Python-backend chain and Triton cannot switch it off.
apis="model-repository,model-config,metadata,statistics,shared-memory,trace,logging"
set -- "$@" "--http-restricted-api=${apis}:${header}=${key}" "--grpc-restricted-protocol=${apis}:${header}=${key}"

model="${LLMOPS_TRITON_MODEL:-support_assistant}"
repository="${LLMOPS_TRITON_REPOSITORY:-/models}"
if [ -f "${repository}/${model}/config.pbtxt" ]; then
  set -- "$@" "--load-model=${model}"
fi
exec "$@"
