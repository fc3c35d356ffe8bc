"""Tools that size and check recipes without the hardware (`verify_recipe`, `capacity`)."""
