# MotifLens on a CUDA runtime base: GPU when the host gives one (`docker run --gpus all`), CPU otherwise.
#
#   docker build -t motiflens:0.1.0 .
#   docker run --rm --gpus all -v "$PWD/models:/models" -v "$PWD/videos:/data:ro" -v "$PWD/runs:/runs" \
#       motiflens:0.1.0 run /data --config /opt/motiflens/configs/gpu-quality.yaml --out /runs/study
#
# The torch==2.14.1 wheel from PyPI is a CUDA 13.0 build that brings its own CUDA libraries, so the base is
# the matching CUDA 13.0 runtime. CTranslate2 4.x (faster-whisper) is built against CUDA 12 and loads
# libcublas.so.12 at run time: nvidia-cublas-cu12 provides it; cuDNN 9 (libcudnn.so.9) comes with torch.
# Both library folders are on LD_LIBRARY_PATH. (Not yet run on a GPU: no GPU machine was available.)
# Pinned tag, never `latest`; update it together with the torch pin in pyproject.toml.
FROM nvidia/cuda:13.0.2-runtime-ubuntu24.04

LABEL org.opencontainers.image.title="MotifLens" \
      org.opencontainers.image.description="Finds cultural symbols in micro short dramas and whether they drive the plot" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="nvidia/cuda:13.0.2-runtime-ubuntu24.04"

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# Python 3.12 is Ubuntu 24.04's own; FFmpeg is not needed from apt (PyAV and imageio-ffmpeg bring it).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv

WORKDIR /opt/motiflens
# Only what the wheel needs (see [tool.hatch.build.targets.wheel] in pyproject.toml), plus the configs.
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY models ./models
COPY configs ./configs
COPY data/taxonomy ./data/taxonomy
COPY data/eval ./data/eval
COPY data/events.yaml data/themes.yaml ./data/

# As `make install` does: rapidocr-onnxruntime drags in GUI OpenCV (needs libGL); keep only the headless
# build of the same version. Then the CUDA 12 cuBLAS that CTranslate2 loads on GPUs.
RUN pip install --no-cache-dir . \
    && pip uninstall -y opencv-python \
    && pip install --no-cache-dir --force-reinstall --no-deps \
        "opencv-python-headless==$(python -c 'import importlib.metadata as m; print(m.version("opencv-python-headless"))')" \
    && pip install --no-cache-dir nvidia-cublas-cu12==12.9.3.13 \
    && python -c 'import cv2, rapidocr_onnxruntime, faster_whisper, open_clip, motiflens'

ENV NVIDIA_WHEELS=/opt/venv/lib/python3.12/site-packages/nvidia
ENV LD_LIBRARY_PATH=$NVIDIA_WHEELS/cublas/lib:$NVIDIA_WHEELS/cudnn/lib:/usr/local/nvidia/lib:/usr/local/nvidia/lib64

# Model cache (Whisper is joined here on first use; CLIP weights arrive with `motiflens models import`),
# and the Hugging Face / torch caches beside it, so that one volume holds every weight.
ENV MOTIFLENS_CACHE=/models \
    HF_HOME=/models/huggingface \
    TORCH_HOME=/models/torch \
    HOME=/home/motiflens

# Non-root. Bind-mounted host folders must be writable by uid 10001, or run with --user "$(id -u):$(id -g)"
# (every cache points into /models, so another uid needs no home folder).
RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin motiflens \
    && mkdir -p /models /data /runs \
    && chown motiflens:motiflens /models /runs
USER 10001:10001
WORKDIR /runs
VOLUME ["/models", "/data", "/runs"]

# A batch command line that exits when its run is done, not a service: there is nothing to probe.
HEALTHCHECK NONE

ENTRYPOINT ["motiflens"]
CMD ["--help"]
