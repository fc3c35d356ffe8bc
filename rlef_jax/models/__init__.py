"""Model definitions: the Flax Llama 3 / 3.1 port and its presets."""
