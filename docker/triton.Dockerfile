# The official Triton server image plus what the project's Python-backend model imports (torch, transformers).
# numpy stays below 2: the Python backend's BYTES tensors need it.
ARG TRITON_IMAGE=nvcr.io/nvidia/tritonserver:24.10-py3
FROM ${TRITON_IMAGE}
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install --no-cache-dir "torch==2.13.0" --index-url "${TORCH_INDEX_URL}" \
 && pip install --no-cache-dir "numpy==1.26.4" "transformers==5.23.0" safetensors
ENV HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
COPY docker/triton-start.sh /usr/local/bin/triton-start.sh
