import sys

from template_tools.regenerate.cli import main

sys.exit(main())
