"""``python -m faults``: run the fault suite (see :mod:`faults.run`)."""

import sys

from faults.run import main

sys.exit(main())
