"""Run a command and write the CPU seconds it used (user + system, its children included) to a file:
scripts/loadtest measures how much of the machine's 2 cores the load generator itself takes.

    python loadtest/cputime.py OUT_FILE command args…
"""

import resource
import subprocess
import sys

if __name__ == "__main__":
    out, command = sys.argv[1], sys.argv[2:]
    code = subprocess.call(command)  # noqa: S603 - the caller's own command line
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as file:
        file.write(f"{usage.ru_utime + usage.ru_stime:.1f}\n")
    sys.exit(code)
