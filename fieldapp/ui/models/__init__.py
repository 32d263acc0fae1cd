"""The screens\x27 models: plain Python, one file per screen, tested without a client."""
