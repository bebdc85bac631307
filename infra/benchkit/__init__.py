"""The pieces of `make bench`: a layer-only venv, a Lambda-like environment per function, canned AWS
answers over HTTP, and the child process that times one cold start."""
