"""A stand-in for the querystring_parser package, for running MLflow's server from Debian's packages."""
