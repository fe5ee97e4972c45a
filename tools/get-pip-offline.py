"""Stand-in for the get-pip.py bootstrap script that ansible-test downloads (unreachable offline).

ansible-test runs the script as `python get-pip.py [pip install options] pip==X ...` inside an empty
virtual environment. The same result comes from the interpreter's bundled ensurepip followed by a
normal `pip install` of the requested packages from PyPI.
"""

import subprocess
import sys

GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", *(arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS)])
