namespace ctr {}  // placeholder, removed once real sources land
