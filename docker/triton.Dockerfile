# The official Triton server image plus what the project's Python-backend model imports (torch, transformers).
# numpy stays below 2: the Python backend's BYTES tensors need it.
#
# 26.09 carries the fixes of every NVIDIA Triton security bulletin up to the one of 2026-09-08 (which needs 26.07 or
# later), among them the Python-backend shared-memory chain of August 2025 (CVE-2025-23319/23320/23334, 25.07) and
# the model-name RCE of September 2025 (CVE-2025-23316, 25.08). The list is in docs/security.md; check
# github.com/NVIDIA/product-security for newer Triton bulletins before every upgrade.
ARG TRITON_IMAGE=nvcr.io/nvidia/tritonserver:26.09-py3
FROM ${TRITON_IMAGE}
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# The image's system Python is "externally managed" (PEP 668); this image exists to add these packages to it.
RUN PIP_BREAK_SYSTEM_PACKAGES=1 pip install --no-cache-dir "torch==2.13.0" --index-url "${TORCH_INDEX_URL}" \
 && PIP_BREAK_SYSTEM_PACKAGES=1 pip install --no-cache-dir "numpy==1.26.4" "transformers==5.23.0" safetensors
# Run as the image's unprivileged user triton-server (uid/gid 1000, created by NVIDIA's build with that fixed id;
# fail the build if that ever changes). It needs a home (caches), and owns only the production-log folder it writes
# (LLMOPS_HOME/prod_logs); the model repository (/models) is read-only to it.
COPY docker/triton-start.sh /usr/local/bin/triton-start.sh
RUN [ "$(id -u triton-server)" = 1000 ] && [ "$(id -g triton-server)" = 1000 ] \
 && chmod 0755 /usr/local/bin/triton-start.sh \
 && mkdir -p /home/triton-server /var/lib/llmops/prod_logs /models \
 && chown triton-server:triton-server /home/triton-server /var/lib/llmops/prod_logs \
 && chmod 0755 /var/lib/llmops/prod_logs
ENV HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HOME=/home/triton-server
USER 1000:1000
ENTRYPOINT ["/usr/local/bin/triton-start.sh"]
CMD ["tritonserver", "--model-repository=/models", "--model-control-mode=explicit", "--strict-readiness=true"]
