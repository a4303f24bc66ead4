"""Parameter initialisation functions (``nn.init``)."""
