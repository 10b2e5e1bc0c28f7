import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while the package loads: one line, as everywhere else
    sys.stderr.write("textgen-export: interrupted\n")
    sys.exit(130)

sys.exit(main())
