"""``npnn.distributions``: probability distributions and KL divergences."""
__all__ = []
