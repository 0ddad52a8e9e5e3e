"""``python -m desktop``: the same as the ``motorchart`` command."""

import sys

from desktop.launch import main

sys.exit(main())
