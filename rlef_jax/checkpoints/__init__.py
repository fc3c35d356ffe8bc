"""Weight import: Hugging Face safetensors folders, Meta consolidated .pth, GGUF.

The loaders return `(config, params)` with params in the layout of
`rlef_jax.models.llama` (pure dict, layers stacked), streamed tensor by tensor
onto the default device or a mesh, and raise `CheckpointError` naming the
file and tensor when a folder does not match its config.

Example:

    from rlef_jax import checkpoints
    config, params = checkpoints.load_hf_llama("/ckpt/Llama-3.1-8B-Instruct")
    config, params = checkpoints.load_meta_llama("/ckpt/Meta-Llama-3.1-8B-Instruct",
                                                 mesh=sharding.make_mesh())
    config, params = checkpoints.load_gguf_llama(
        checkpoints.resolve_gguf("smollm2-135m-instruct"))  # llama.cpp's GGUF, dequantised
    config, params = checkpoints.load_policy("runs/tiny_cpu/rlef")  # a training workdir

Training checkpoints (orbax) live in `rlef_jax.checkpoints.state`.
"""

from rlef_jax.checkpoints.common import CheckpointError
from rlef_jax.checkpoints.gguf import load_gguf_llama, resolve_gguf
from rlef_jax.checkpoints.hf import load_hf_llama, save_hf_llama
from rlef_jax.checkpoints.meta import load_meta_llama
from rlef_jax.checkpoints.state import TrainCheckpoints, load_policy

__all__ = ["CheckpointError", "TrainCheckpoints", "load_gguf_llama", "load_hf_llama",
           "load_meta_llama", "load_policy", "resolve_gguf", "save_hf_llama"]
