"""`not CMD ...`: run CMD, succeed iff it fails (LLVM lit's `not`); its output passes through."""

import subprocess
import sys

if __name__ == "__main__":
    rc = subprocess.run(sys.argv[1:]).returncode
    sys.exit(0 if rc != 0 else 1)
