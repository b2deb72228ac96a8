"""``python -m tlsdoc`` is the same program as the ``tlsdoc`` command."""

import sys

from tlsdoc.cli import main

sys.exit(main())
