import sys

from formservice.cli import main

sys.exit(main())
