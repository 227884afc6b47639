"""Test adapters that emulate hardware at its real interface (a fake I2C bus, emulated chips)."""
