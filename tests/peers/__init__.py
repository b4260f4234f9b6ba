"""Real peers started by the tests: each is a subprocess on 127.0.0.1, stopped by its own PID."""
