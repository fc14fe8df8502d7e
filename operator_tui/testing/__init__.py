"""Test support shipped with the package: a loopback Messages API server and an in-memory subject."""
