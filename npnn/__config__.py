"""``npnn.__config__``: build and runtime configuration (array libraries, BLAS, threads)."""
