from latent_explorer.launch import main

raise SystemExit(main())
