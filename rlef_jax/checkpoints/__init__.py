"""Weight import (HF safetensors, Meta consolidated .pth) and orbax state I/O."""
