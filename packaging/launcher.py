"""Entry point of the PyInstaller build: the same command line as the installed ``latent-explorer``."""

import multiprocessing

from latent_explorer.launch import main  # before numpy: see latent_explorer.core.threads

if __name__ == "__main__":
    multiprocessing.freeze_support()  # scikit-learn and openTSNE may start worker processes
    raise SystemExit(main())
