"""``npnn.backends``: what the array libraries offer (mkl, cudnn availability)."""
