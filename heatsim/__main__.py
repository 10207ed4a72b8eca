import sys

from heatsim.cli import main

sys.exit(main())
