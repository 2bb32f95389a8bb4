"""The `formabot` subcommands, one module per group; each stays thin over the library."""
