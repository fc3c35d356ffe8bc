"""Compile a recipe's sampler and PPO update for its target slice, without the slice.

    python -m rlef_jax.tools.verify_recipe --gin_file=gin/llama3_1_8b_v5p_128.gin
    python -m rlef_jax.tools.verify_recipe --gin_file=gin/llama3_1_70b_v5p_128.gin --topology=v5e-1

Reads the recipe through gin (the trainer's configurables: `ModelSpec`,
`MeshConfig`, `PPOConfig`, `EnvConfig`, `TrainerConfig`, plus
`RecipeTarget` from `rlef_jax.tools.target`), builds abstract shapes only
(parameters, optimizer state, KV cache, a rollout batch: nothing is
allocated) with the recipe's shardings, and lowers and compiles three
programs: the sampler's prefill and decode (`sampling.prefill` /
`sampling.decode`, bf16 copy, inference rules, the sampler mesh) and the PPO
update (`update.make_update`, training rules, the training mesh).

TPU targets compile with the real TPU compiler (libtpu, `pip install
"jax[tpu]==<jax version>"`) for the devices of
`jax.experimental.topologies.get_topology_desc`: the figures are the
compiler's. GPU targets compile on as many virtual CPU devices with the same
mesh: XLA:CPU's buffer assignment stands in for the GPU's, so those figures
are estimates (`"estimate": true`).

Per device it reports parameter, optimizer, reference and KV-cache bytes
(from the shardings) and each program's argument/temporary bytes (from its
`memory_analysis`), the peak of the round (the sampler and the trainer share
the devices: the training state stays resident while the sampler runs, and
the sampler's copy while the update runs) against the chip's memory, the
collectives in each compiled program, and the capacity model
(`capacity.round_estimate`). The last line is one JSON object
`{"recipe", "topology", "fits", "per_device_bytes", "device_bytes",
"programs", "bound", ...}`; the exit status is 0 when it fits, 1 when not.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import pathlib
import re
import sys
import time
from typing import Any, Sequence

import gin
import importlib.util
import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import topologies

from rlef_jax import jobs  # noqa: F401  (registers `run` and every job's configurables)
from rlef_jax import launch
from rlef_jax import sampling
from rlef_jax import sharding
from rlef_jax.models import llama
from rlef_jax.models import partitioning
from rlef_jax.models import precision
from rlef_jax.rl import update as ppo_update
from rlef_jax.tools import capacity
from rlef_jax.tools import target as target_lib

COLLECTIVES = ("all-gather", "all-reduce", "reduce-scatter", "all-to-all", "collective-permute")
_COLLECTIVE_RE = re.compile(r"= [^=]*?\b(" + "|".join(COLLECTIVES) + r")(?:-start)?\(")


def _prepare_environment(num_cpu_devices: int | None = None) -> None:
  """Env vars that must be set before jax initialises its backends."""
  # Many processes may load libtpu here (compiling only, no chips to share).
  os.environ.setdefault("ALLOW_MULTIPLE_LIBTPU_LOAD", "1")
  os.environ.setdefault("TPU_ACCELERATOR_TYPE", "v5litepod-1")  # silences a host probe
  os.environ.setdefault("TPU_WORKER_HOSTNAMES", "localhost")
  if num_cpu_devices:
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" not in flags:
      os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={num_cpu_devices}".strip()


@dataclasses.dataclass
class Recipe:
  name: str
  model: Any        # launch.ModelSpec
  mesh: Any         # sharding.MeshConfig
  ppo: Any          # update.PPOConfig
  env: Any          # env.rollout.EnvConfig (or None)
  trainer: Any      # rl.trainer.TrainerConfig (or None)
  target: Any       # tools.target.RecipeTarget


def load_recipe(gin_files: Sequence[str], bindings: Sequence[str] = ()) -> Recipe:
  """The recipe's configs, read through gin with the trainer's configurables."""


  gin_dir = pathlib.Path(__file__).resolve().parents[2] / "gin"
  gin.clear_config()
  gin.add_config_file_search_path(str(gin_dir))
  gin.parse_config_files_and_bindings(list(gin_files), list(bindings))

  def build(name):
    try:
      return getattr(launch, name)()
    except (AttributeError, ModuleNotFoundError):
      return None

  return Recipe(name=pathlib.Path(gin_files[-1]).stem, model=launch.ModelSpec(),
                mesh=launch.MeshConfig(), ppo=launch.PPOConfig(), env=build("EnvConfig"),
                trainer=build("TrainerConfig"), target=target_lib.RecipeTarget())


def _devices(topo) -> list[Any]:

  if topo.tpu_topology is not None:


    if importlib.util.find_spec("libtpu") is None:
      raise SystemExit(f"{topo.name} compiles with the TPU compiler: "
                       f"pip install \"jax[tpu]=={jax.__version__}\"")
    # Hosts hold 2x2 chips (v5e/v6e: up to 2x4) unless the slice is smaller.
    kwargs = {"chips_per_host_bounds": (1, 1, 1)} if topo.num_devices < 4 else {}
    try:
      return list(topologies.get_topology_desc(platform="tpu", topology_name=topo.tpu_topology,
                                               **kwargs).devices)
    except Exception as e:  # pylint: disable=broad-except
      raise SystemExit(f"cannot build the {topo.name} topology ({topo.tpu_topology}): {e}")
  cpus = jax.devices("cpu")
  if len(cpus) < topo.num_devices:
    raise SystemExit(f"{topo.name} needs {topo.num_devices} virtual CPU devices, have {len(cpus)}: "
                     f"set XLA_FLAGS=--xla_force_host_platform_device_count={topo.num_devices}")
  return cpus[:topo.num_devices]


def _fit_mesh(mesh_cfg, n: int, notes: list[str], what: str):
  """`mesh_cfg` if it resolves to all n devices, else all n on fsdp (noted)."""
  try:
    if math.prod(sharding.mesh_shape(mesh_cfg, n)) == n:
      return mesh_cfg
  except sharding.MeshError:
    pass
  fallback = sharding.MeshConfig(data=1, fsdp=-1, tensor=1) if what == "training" else \
      sharding.MeshConfig(data=-1, fsdp=1, tensor=1)
  notes.append(f"{what} mesh {mesh_cfg} does not fit {n} devices; used {fallback}")
  return fallback


def _shard_bytes(tree) -> int:
  """Bytes per device of a pytree of ShapeDtypeStructs with shardings (the largest shard)."""
  total = 0
  for x in jax.tree.leaves(tree):
    shape = x.sharding.shard_shape(x.shape) if x.sharding is not None else x.shape
    total += int(np.prod(shape, dtype=np.int64)) * np.dtype(x.dtype).itemsize
  return total


def _with_shardings(tree, shardings):
  return jax.tree.map(lambda x, sh: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sh), tree,
                      shardings)


def _program_report(compiled, compile_s: float) -> dict[str, Any]:
  ma = compiled.memory_analysis()
  text = compiled.as_text() or ""
  counts = {c: 0 for c in COLLECTIVES}
  for m in _COLLECTIVE_RE.finditer(text):
    counts[m.group(1)] += 1
  report = {"compile_s": round(compile_s, 1), "collectives": counts}
  if ma is not None:
    arg, out = int(ma.argument_size_in_bytes), int(ma.output_size_in_bytes)
    alias, temp = int(ma.alias_size_in_bytes), int(ma.temp_size_in_bytes)
    code = int(ma.generated_code_size_in_bytes)
    report.update(argument_bytes=arg, output_bytes=out, alias_bytes=alias, temp_bytes=temp,
                  code_bytes=code, peak_bytes=arg + out - alias + temp + code)
  return report


def _compile(lower_fn, name: str, log) -> tuple[Any, dict[str, Any]]:
  start = time.perf_counter()
  try:
    compiled = lower_fn().compile()
  except Exception as e:  # pylint: disable=broad-except
    message = " ".join(str(e).split())[:600]
    log(f"  {name}: FAILED to compile: {message}")
    return None, {"error": message}
  report = _program_report(compiled, time.perf_counter() - start)
  log(f"  {name}: compiled in {report['compile_s']} s, peak {_gib(report.get('peak_bytes', 0))} "
      f"(args {_gib(report.get('argument_bytes', 0))}, temp {_gib(report.get('temp_bytes', 0))}), "
      "collectives " + ", ".join(f"{k} {v}" for k, v in report["collectives"].items() if v))
  return compiled, report


def _gib(n: float) -> str:
  return f"{n / (1 << 30):.2f} GiB"


def verify(recipe: Recipe, topology_name: str | None = None, log=print,
           compile_programs: Sequence[str] = ("prefill", "decode", "update")) -> dict[str, Any]:
  """Compiles the recipe's programs for the topology; the report dict (see the module docstring)."""
  target = recipe.target
  topo = capacity.topology(topology_name or target.topology)
  notes: list[str] = []
  if topo.estimate:
    notes.append(f"{topo.name}: compiled on {topo.num_devices} virtual CPU devices (XLA:CPU "
                 "buffer assignment): estimates")
  devices = _devices(topo)
  spec = recipe.model
  config = launch.model_config(spec)
  policy = precision.PrecisionPolicy(
      param_dtype=spec.param_dtype, compute_dtype=spec.compute_dtype,
      sampler_dtype=spec.sampler_dtype or spec.param_dtype,
      # The trainer copies rho in the master dtype (update.reference_params).
      reference_dtype=spec.param_dtype)
  if config.attention_impl == "auto":
    # "auto" resolves from the backend at trace time, and this process's is CPU.
    config = config.replace(attention_impl="einsum" if topo.chip.platform == "cpu" else "dot_product")
  env, trainer = recipe.env, recipe.trainer
  turns = env.max_turns if env is not None else 3
  rollout_len = target.rollout_len or (env.context_budget if env is not None else 8192)
  rollouts = (trainer.problems_per_round * trainer.rollouts_per_problem) if trainer else 1024
  sample_settings = (trainer.sampling if trainer
                     else sampling.SamplingSettings(max_new_tokens=1024))
  max_new = sample_settings.max_new_tokens
  groups = env.judge_groups if env is not None else 1
  log(f"recipe {recipe.name}: {spec.preset} ({config.num_params() / 1e9:.2f}B params) on "
      f"{topo.name} ({topo.num_devices} x {topo.chip.kind}, {_gib(topo.chip.hbm_bytes)} each); "
      f"{rollouts} rollouts x {turns} turns, rows of {rollout_len} tokens")

  # --- the PPO update on the training mesh ---------------------------------
  mesh_cfg = _fit_mesh(recipe.mesh, topo.num_devices, notes, "training")
  mesh = sharding.make_mesh(mesh_cfg, devices=devices)
  ppo_cfg = recipe.ppo
  per_step = rollouts // ppo_cfg.num_minibatches // ppo_cfg.microbatches
  if rollouts % (ppo_cfg.num_minibatches * ppo_cfg.microbatches) or per_step % partitioning.batch_shards(mesh):
    notes.append(f"{rollouts} rollouts / {ppo_cfg.num_minibatches} minibatches / "
                 f"{ppo_cfg.microbatches} microbatches do not split over {partitioning.batch_shards(mesh)} "
                 "batch shards")
  state = ppo_update.abstract_state(config, ppo_cfg, mesh)
  ref_sh = partitioning.param_shardings(config, mesh)
  ref = jax.tree.map(lambda x, sh: jax.ShapeDtypeStruct(x.shape, precision.dtype(policy.reference_dtype),
                                                        sharding=sh),
                     jax.eval_shape(lambda: llama.init_params(config, jax.random.key(0))), ref_sh)
  rep = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
  batch_sh = lambda shape: partitioning.batch_sharding(mesh, shape)
  row = lambda dtype, width: jax.ShapeDtypeStruct((rollouts, width), dtype,
                                                  sharding=batch_sh((rollouts, width)))
  batch = ppo_update.Rollouts(
      tokens=row(jnp.int32, rollout_len), response_mask=row(jnp.bool_, rollout_len),
      turn_index=row(jnp.int32, rollout_len), behaviour_logp=row(jnp.float32, rollout_len),
      value_positions=row(jnp.int32, turns), turn_mask=row(jnp.bool_, turns),
      rewards=row(jnp.float32, turns))
  key = jax.eval_shape(lambda: jax.random.key(0))
  key = jax.ShapeDtypeStruct(key.shape, key.dtype, sharding=rep)
  train_bytes = {
      "policy_params": _shard_bytes(state.policy_params),
      "policy_opt_state": _shard_bytes(state.policy_opt_state),
      "value_params": _shard_bytes(state.value_params),
      "value_opt_state": _shard_bytes(state.value_opt_state),
      "reference_params": _shard_bytes(ref),
  }
  train_resident = sum(train_bytes.values())
  programs: dict[str, Any] = {}
  log(f"training mesh {dict(mesh.shape)}: per device params {_gib(train_bytes['policy_params'])} "
      f"+ value {_gib(train_bytes['value_params'])} + AdamW "
      f"{_gib(train_bytes['policy_opt_state'] + train_bytes['value_opt_state'])} + rho "
      f"{_gib(train_bytes['reference_params'])} = {_gib(train_resident)}")
  if "update" in compile_programs:
    update_fn = ppo_update.make_update(config, ppo_cfg, mesh=mesh)
    _, programs["update"] = _compile(lambda: update_fn.lower(state, ref, batch, key), "update", log)

  # --- the sampler on its own mesh, inference rules ---------------------------
  s_cfg = policy.sampler_config(config)
  s_mesh_cfg = _fit_mesh(sharding.MeshConfig(target.sampler_data, target.sampler_fsdp,
                                             target.sampler_tensor), topo.num_devices, notes, "sampler")
  s_mesh = sharding.make_mesh(s_mesh_cfg, devices=devices)
  rules = partitioning.INFERENCE_RULES
  s_batch = target.sampler_batch or -(-rollouts // groups)
  s_batch = -(-s_batch // partitioning.batch_shards(s_mesh, rules)) * partitioning.batch_shards(s_mesh, rules)
  prompt_len = sampling.bucket_length(target.prompt_len)
  cache_len = prompt_len + max_new
  s_params = jax.eval_shape(lambda: jax.tree.map(
      lambda x: x.astype(s_cfg.param_dtype), llama.init_params(config, jax.random.key(0))))
  s_params = _with_shardings(s_params, partitioning.param_shardings(s_cfg, s_mesh, s_params, rules))
  cache = jax.eval_shape(lambda: llama.init_cache(s_cfg, s_batch, cache_len))
  cache = llama.KVCache(*(jax.ShapeDtypeStruct(c.shape, c.dtype, sharding=partitioning.kv_cache_sharding(
      s_mesh, c.shape, kind, rules)) for kind, c in zip("kv", cache)))
  tokens = jax.ShapeDtypeStruct((s_batch, prompt_len), jnp.int32,
                                sharding=partitioning.batch_sharding(s_mesh, (s_batch, prompt_len), rules=rules))
  lengths = jax.ShapeDtypeStruct((s_batch,), jnp.int32,
                                 sharding=partitioning.batch_sharding(s_mesh, (s_batch,), rules=rules))
  s_key = jax.ShapeDtypeStruct(key.shape, key.dtype,
                               sharding=jax.sharding.NamedSharding(s_mesh, jax.sharding.PartitionSpec()))
  settings = sampling.SamplingParams.of(sample_settings)
  sampler_bytes = {"sampler_params": _shard_bytes(s_params), "kv_cache": _shard_bytes(cache)}
  log(f"sampler mesh {dict(s_mesh.shape)} ({s_batch} rows x {cache_len} slots, "
      f"{jnp.dtype(s_cfg.param_dtype).name}): per device weights {_gib(sampler_bytes['sampler_params'])}"
      f" + KV cache {_gib(sampler_bytes['kv_cache'])}")
  with jax.set_mesh(s_mesh):
    if "prefill" in compile_programs or "decode" in compile_programs:
      compiled, programs["prefill"] = _compile(lambda: sampling.prefill.lower(
          s_cfg, s_params, cache, tokens, lengths, s_key, settings, max_new), "prefill", log)
      if compiled is not None and "decode" in compile_programs:
        out_cache, out_state = jax.eval_shape(
            lambda p, c, t, l, k: sampling.prefill(s_cfg, p, c, t, l, k, settings, max_new),
            s_params, cache, tokens, lengths, s_key)
        out_sh = compiled.output_shardings
        d_cache = _with_shardings(out_cache, out_sh[0])
        d_state = _with_shardings(out_state, out_sh[1])
        _, programs["decode"] = _compile(lambda: sampling.decode.lower(
            s_cfg, s_params, d_cache, d_state, settings, None), "decode", log)

  # --- the round's peak: sampler and trainer share the devices ---------------
  sampler_resident = sampler_bytes["sampler_params"]
  peaks = {}
  for name, rep_ in programs.items():
    if "peak_bytes" not in rep_:
      continue
    others = sampler_resident if name == "update" else train_resident
    peaks[name] = rep_["peak_bytes"] + others
    rep_["round_peak_bytes"] = peaks[name]
  failed = [n for n, r in programs.items() if "error" in r]
  # Without a compiled program, the bytes that must be resident at once.
  floor = train_resident + sampler_resident + sampler_bytes["kv_cache"]
  per_device = max([floor, *peaks.values()])
  fits = not failed and per_device <= topo.chip.hbm_bytes
  est = capacity.round_estimate(
      config, topo, rollouts=rollouts, turns=turns, max_new_tokens=max_new,
      prompt_len=prompt_len, rollout_len=rollout_len, epochs=ppo_cfg.epochs,
      sampler_tensor=s_mesh.shape["tensor"],
      sampler_bytes_per_param=jnp.dtype(s_cfg.param_dtype).itemsize,
      cache_itemsize=jnp.dtype(s_cfg.compute_dtype).itemsize, target=target)
  headroom = 1 - per_device / topo.chip.hbm_bytes
  log(f"per device: {_gib(per_device)} of {_gib(topo.chip.hbm_bytes)} "
      f"({'fits' if fits else 'DOES NOT FIT'}, headroom {headroom:.0%})"
      + ("" if not failed else f"; failed to compile: {', '.join(failed)}"))
  log(f"round estimate: sampling {est['sampling_s']} s (decode step {est['decode_step_ms']} ms), "
      f"judging {est['judging_s']} s on {est['judge_vcpus']} of {est['host_vcpus']} host vCPUs "
      f"({est['judge_cpu_s']} CPU-s), update {est['update_s']} s -> bound: {est['bound']}; "
      f"a judge pool of ~{est['judge_pool_for_device_pace']} vCPUs keeps pace with the devices")
  for note in notes:
    log(f"note: {note}")
  return {
      "recipe": recipe.name, "topology": topo.name, "fits": bool(fits),
      "per_device_bytes": int(per_device), "device_bytes": int(topo.chip.hbm_bytes),
      "programs": programs, "bound": est["bound"],
      "headroom": round(headroom, 3), "estimate": topo.estimate,
      "resident_bytes": {**train_bytes, **sampler_bytes},
      "meshes": {"training": dict(mesh.shape), "sampler": dict(s_mesh.shape)},
      "capacity": est, "notes": notes,
  }


def main(argv: Sequence[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--gin_file", action="append", required=True)
  parser.add_argument("--gin_bindings", action="append", default=[])
  parser.add_argument("--topology", default=None, help="overrides RecipeTarget.topology")
  parser.add_argument("--programs", default="prefill,decode,update")
  args = parser.parse_args(argv)
  _prepare_environment(num_cpu_devices=8)


  recipe = load_recipe(args.gin_file, args.gin_bindings)
  topo = capacity.topology(args.topology or recipe.target.topology)
  if topo.tpu_topology is None and jax.device_count("cpu") < topo.num_devices:
    # Virtual CPU devices are fixed when jax starts: start again with enough.
    env = dict(os.environ)
    env["XLA_FLAGS"] = re.sub(r"--xla_force_host_platform_device_count=\d+", "",
                              env.get("XLA_FLAGS", "")) + \
        f" --xla_force_host_platform_device_count={topo.num_devices}"
    os.execve(sys.executable, [sys.executable, "-m", "rlef_jax.tools.verify_recipe", *(
        argv if argv is not None else sys.argv[1:])], env)
  report = verify(recipe, args.topology, log=lambda s: print(s, flush=True),
                  compile_programs=tuple(args.programs.split(",")))
  print(json.dumps(report), flush=True)
  return 0 if report["fits"] else 1


if __name__ == "__main__":
  sys.exit(main())
