"""Entry point of the frozen app (PyInstaller runs this file as __main__)."""

import multiprocessing
import sys

from desktop.launch import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # harmless unless a future part uses multiprocessing on Windows
    sys.exit(main())
