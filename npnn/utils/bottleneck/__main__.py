"""``python -m npnn.utils.bottleneck script.py [args]``."""
import sys

from . import main

sys.exit(main())
