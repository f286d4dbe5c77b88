"""Entry point of the PyInstaller build: the same command line as the installed ``latent-explorer``."""

import multiprocessing

from latent_explorer.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # scikit-learn and openTSNE may start worker processes
    raise SystemExit(main())
