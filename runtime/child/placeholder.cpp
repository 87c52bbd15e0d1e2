namespace ctr::child {}
