"""The running program: configuration, CLI, composition, channels."""
