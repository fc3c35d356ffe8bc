"""Prepares the TFDS data set `code_contests` from downloaded files.

    python -m rlef_jax.data --manual_dir=M --data_dir=D [--on_bad_row=skip]

prints the preparation report (counts read, kept, dropped, skipped) as one
JSON line, the last of its output.
The accepted layouts of M are in docs/data.md.
"""

import argparse
import json

import tensorflow_datasets as tfds

from rlef_jax.data import code_contests


def main(argv: list[str] | None = None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--manual_dir", required=True,
                      help="the downloaded files (Hugging Face or JSON layout)")
  parser.add_argument("--data_dir", default=None,
                      help="TFDS data_dir to write (default: TFDS' own)")
  parser.add_argument("--on_bad_row", choices=code_contests.ON_BAD_ROW,
                      default="fail")
  args = parser.parse_args(argv)
  builder = tfds.builder("code_contests", data_dir=args.data_dir,
                         on_bad_row=args.on_bad_row)
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=args.manual_dir))
  report = code_contests.preparation_report(args.data_dir)
  for split in report["splits"].values():
    split.pop("dropped_names")
  print(json.dumps(report))


if __name__ == "__main__":
  main()
