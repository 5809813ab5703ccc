"""Framework-free building blocks every other package may import: money, clock, config, logging."""
