from latent_explorer.cli import main

raise SystemExit(main())
