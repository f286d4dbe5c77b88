"""Past one workstation: encoding on Ray Data and embeddings of millions by fit-and-place (the ``[scale]`` extra)."""
