#!/bin/sh
# Start tritonserver with the champion loaded. The `serving-reconcile` service has pinned the champion in the
# model's config.pbtxt before this runs (and the hourly `reconcile_serving` task corrects the pin after a restart
# that happened without it); with no config there is no champion yet and nothing is loaded.
set -eu
model="${LLMOPS_TRITON_MODEL:-support_assistant}"
repository="${LLMOPS_TRITON_REPOSITORY:-/models}"
if [ -f "${repository}/${model}/config.pbtxt" ]; then
  set -- "$@" "--load-model=${model}"
fi
exec "$@"
