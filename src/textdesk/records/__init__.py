"""Records (incidents): the use cases the API, the virtual agent and agents share."""
