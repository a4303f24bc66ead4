"""``npnn.optim``: optimizers and learning-rate schedulers."""
