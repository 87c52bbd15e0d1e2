namespace ctr::userns {}  // placeholder, removed once real sources land
