"""Problem data: the TFDS builder `code_contests`, bundled problems, HumanEval.

Importing this package registers the TFDS builder `code_contests` (TFDS only;
TensorFlow loads lazily when data is read). seqio tasks live in
`rlef_jax.data.tasks`.
"""

from rlef_jax.data import code_contests
from rlef_jax.data import schema
