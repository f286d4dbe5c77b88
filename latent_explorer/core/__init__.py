"""Pure compute: datasets, models, encoding, projections and analyses. Never imports Qt."""
